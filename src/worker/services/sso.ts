// SSO: OIDC authorization code + PKCE against the IdP configured by Worker vars.
// Two flows: the browser's (the server holds the PKCE verifier in an encrypted,
// HttpOnly cookie) and the CLI's loopback flow of RFC 8252 (the CLI holds the
// verifier and posts the code back to /v1/auth/sso/token).
import { EncryptJWT, base64url, jwtDecrypt } from "jose";
import type { JwtDeps } from "../auth/jwt.js";
import { issuerMetadata, verifyIdToken } from "../auth/oidc-issuer.js";
import { runBatch } from "../db/client.js";
import { findUserByEmail, insertUser, type UserRow } from "../db/identity.js";
import { constantTimeEqual } from "../crypto/hashing.js";
import { randomBytes } from "../crypto/encoding.js";
import { AppError } from "../errors.js";
import { getInstanceSecret } from "./server-keys.js";
import { canonicalEmail, issueTokenPair, type TokenPair } from "./sessions.js";
import { newUserRow } from "./users.js";

export interface SsoConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  allowedDomains: string[];
}

export function ssoConfig(env: {
  QALA_SSO_ISSUER?: string;
  QALA_SSO_CLIENT_ID?: string;
  QALA_SSO_CLIENT_SECRET?: string;
  QALA_SSO_ALLOWED_DOMAINS?: string;
}): SsoConfig {
  if (!env.QALA_SSO_ISSUER || !env.QALA_SSO_CLIENT_ID || !env.QALA_SSO_CLIENT_SECRET) {
    throw new AppError("not_found", "SSO is not configured on this server");
  }
  return {
    issuer: env.QALA_SSO_ISSUER.replace(/\/+$/, ""),
    clientId: env.QALA_SSO_CLIENT_ID,
    clientSecret: env.QALA_SSO_CLIENT_SECRET,
    allowedDomains: (env.QALA_SSO_ALLOWED_DOMAINS ?? "")
      .split(",")
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean),
  };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** RFC 8252 §7.3: a native app's redirect to a loopback address, over http. */
export function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === "http:" && LOOPBACK.has(url.hostname);
  } catch {
    return false;
  }
}

const random = () => base64url.encode(randomBytes(32));

async function challengeOf(verifier: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url.encode(new Uint8Array(digest));
}

export const COOKIE = "qala_sso";
const COOKIE_TTL_SECONDS = 600;

async function authorizeUrl(config: SsoConfig, params: Record<string, string>) {
  const { discovery } = await issuerMetadata(config.issuer);
  if (!discovery.authorization_endpoint) throw new Error("the IdP has no authorization endpoint");
  const url = new URL(discovery.authorization_endpoint);
  const all = { client_id: config.clientId, response_type: "code", scope: "openid email profile" };
  for (const [k, v] of Object.entries({ ...all, ...params })) url.searchParams.set(k, v);
  return url.toString();
}

/** The CLI flow: the caller brings its own PKCE challenge and state. */
export function startLoopback(
  config: SsoConfig,
  input: { redirectUri: string; codeChallenge: string; state?: string },
) {
  return authorizeUrl(config, {
    redirect_uri: input.redirectUri,
    code_challenge: input.codeChallenge,
    code_challenge_method: "S256",
    ...(input.state ? { state: input.state } : {}),
  });
}

/** The browser flow: the server makes verifier, state and nonce and keeps them in a sealed cookie. */
export async function startBrowser(
  deps: JwtDeps,
  config: SsoConfig,
  input: { callback: string; returnTo: string | null },
): Promise<{ location: string; cookie: string }> {
  const verifier = random();
  const state = random();
  const nonce = random();
  const key = await getInstanceSecret(deps.db, deps.masterKey, "sso-cookie");
  const cookie = await new EncryptJWT({ verifier, state, nonce, return_to: input.returnTo })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .setIssuedAt()
    .setExpirationTime(`${COOKIE_TTL_SECONDS}s`)
    .encrypt(key);
  const location = await authorizeUrl(config, {
    redirect_uri: input.callback,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  return { location, cookie };
}

export async function openBrowserCookie(deps: JwtDeps, cookie: string, state: string) {
  const key = await getInstanceSecret(deps.db, deps.masterKey, "sso-cookie");
  let payload;
  try {
    ({ payload } = await jwtDecrypt(cookie, key));
  } catch {
    throw new AppError("unauthorized", "the SSO login expired or came from elsewhere; start again");
  }
  if (typeof payload.state !== "string" || !(await constantTimeEqual(payload.state, state))) {
    throw new AppError("unauthorized", "the SSO state does not match; start again");
  }
  return payload as { verifier: string; nonce: string; return_to: string | null };
}

/** Exchanges the code at the IdP, verifies the ID token, and signs the user in (creating a member). */
export async function completeLogin(
  deps: JwtDeps,
  config: SsoConfig,
  input: { code: string; verifier: string; redirectUri: string; nonce?: string },
): Promise<{ pair: TokenPair; user: UserRow }> {
  const { discovery } = await issuerMetadata(config.issuer);
  if (!discovery.token_endpoint) throw new Error("the IdP has no token endpoint");
  const res = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: input.code,
      redirect_uri: input.redirectUri,
      code_verifier: input.verifier,
      client_id: config.clientId,
      client_secret: config.clientSecret,
    }),
  });
  const refused = new AppError("unauthorized", "the identity provider did not confirm this login");
  if (!res.ok) throw refused;
  const { id_token: idToken } = (await res.json()) as { id_token?: string };
  const claims = idToken
    ? await verifyIdToken(config.issuer, idToken, { audience: config.clientId })
    : null;
  if (!claims) throw refused;
  if (input.nonce !== undefined && claims.nonce !== input.nonce) throw refused;
  if (typeof claims.email !== "string" || claims.email_verified !== true) {
    throw new AppError("forbidden", "the identity provider did not vouch for an email address");
  }
  const email = canonicalEmail(claims.email);
  const domain = email.split("@").at(-1)!;
  if (config.allowedDomains.length && !config.allowedDomains.includes(domain)) {
    throw new AppError("forbidden", `accounts of ${domain} may not sign in here`);
  }
  let user = await findUserByEmail(deps.db, email);
  if (user?.disabledAt) throw new AppError("unauthorized", "this account is disabled");
  const created = user ? [] : [(user = await newUserRow(deps, { email, name: nameOf(claims) }))];
  const session = await issueTokenPair(deps, user);
  await runBatch(deps.db, [...created.map((u) => insertUser(deps.db, u)), ...session.statements]);
  return { pair: session.pair, user };
}

const nameOf = (claims: Record<string, unknown>) =>
  typeof claims.name === "string" ? claims.name : undefined;

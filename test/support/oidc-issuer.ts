// A real OIDC issuer on loopback for tests (Node): discovery, JWKS, an
// authorization endpoint that approves at once, a token endpoint with PKCE and
// client authentication, and /mint for workload ID tokens (like GitHub's).
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from "jose";

export const SSO_CLIENT_ID = "qala-test-client";
export const SSO_CLIENT_SECRET = "qala-test-client-secret";

/** The bearer token of the simulated runner's ID-token endpoint. */
export const ACTIONS_REQUEST_TOKEN = "runner-request-token";
/** Claims like a GitHub Actions job's ID token. */
export const GITHUB_WORKLOAD = {
  sub: "repo:acme/app:ref:refs/heads/main",
  repository: "acme/app",
  repository_owner: "acme",
  ref: "refs/heads/main",
  workflow: "deploy",
};

interface PendingCode {
  redirectUri: string;
  challenge: string;
  nonce?: string;
  identity: Record<string, unknown>;
}

export interface TestIssuer {
  url: string;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const other = await generateKeyPair("RS256");
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  const codes = new Map<string, PendingCode>();
  let nextIdentity: Record<string, unknown> = {
    email: "sso.user@example.com",
    email_verified: true,
  };
  let url = "";
  /** The claims of the next Actions ID tokens, and how many requests fail first (503). */
  let workload: Record<string, unknown> = GITHUB_WORKLOAD;
  let failIdTokens = 0;

  const sign = (
    claims: JWTPayload,
    options: { other?: boolean; ttl?: number; alg?: string } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: options.alg ?? "RS256", kid: "test-key" })
      .setIssuer((claims.iss as string) ?? url)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttl ?? 300))
      .sign(options.other ? other.privateKey : privateKey);

  const server: Server = createServer(async (req, res) => {
    const reqUrl = new URL(req.url ?? "/", url);
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(JSON.stringify(data));
    };
    try {
      switch (`${req.method} ${reqUrl.pathname}`) {
        case "GET /.well-known/openid-configuration":
          return send(200, {
            issuer: url,
            jwks_uri: `${url}/jwks`,
            authorization_endpoint: `${url}/authorize`,
            token_endpoint: `${url}/token`,
            id_token_signing_alg_values_supported: ["RS256"],
          });
        case "GET /jwks":
          return send(200, { keys: [jwk] });
        case "POST /mint": {
          const { claims, other: useOther, ttl } = JSON.parse(await body(req));
          return send(200, { token: await sign(claims, { other: useOther, ttl }) });
        }
        case "GET /actions-id-token": {
          // GitHub's runner endpoint: ACTIONS_ID_TOKEN_REQUEST_URL (+ "&audience=…"),
          // bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, answering {"value": "<ID token>"}.
          if (req.headers.authorization !== `Bearer ${ACTIONS_REQUEST_TOKEN}`) {
            return send(401, { message: "bad request token" });
          }
          if (failIdTokens > 0) {
            failIdTokens--;
            return send(503, { message: "try again" });
          }
          const audience = reqUrl.searchParams.get("audience") ?? "https://github.com/acme";
          return send(200, { value: await sign({ aud: audience, ...workload }) });
        }
        case "POST /workload": {
          const next = JSON.parse(await body(req));
          workload = next.claims ?? workload;
          failIdTokens = next.fail ?? 0;
          return send(204, {});
        }
        case "POST /next-identity":
          nextIdentity = JSON.parse(await body(req));
          return send(204, {});
        case "GET /authorize": {
          const p = reqUrl.searchParams;
          if (p.get("client_id") !== SSO_CLIENT_ID || p.get("code_challenge_method") !== "S256") {
            return send(400, { error: "invalid_request" });
          }
          const code = randomBytes(16).toString("hex");
          codes.set(code, {
            redirectUri: p.get("redirect_uri")!,
            challenge: p.get("code_challenge")!,
            nonce: p.get("nonce") ?? undefined,
            identity: nextIdentity,
          });
          const back = new URL(p.get("redirect_uri")!);
          back.searchParams.set("code", code);
          if (p.get("state")) back.searchParams.set("state", p.get("state")!);
          res.writeHead(302, { Location: back.toString() });
          return res.end();
        }
        case "POST /token": {
          const form = new URLSearchParams(await body(req));
          const pending = codes.get(form.get("code") ?? "");
          codes.delete(form.get("code") ?? "");
          const challenge = createHash("sha256")
            .update(form.get("code_verifier") ?? "")
            .digest("base64url");
          if (
            !pending ||
            form.get("client_id") !== SSO_CLIENT_ID ||
            form.get("client_secret") !== SSO_CLIENT_SECRET ||
            form.get("redirect_uri") !== pending.redirectUri ||
            challenge !== pending.challenge
          ) {
            return send(400, { error: "invalid_grant" });
          }
          const idToken = await sign({
            sub: `user-${pending.identity.email}`,
            aud: SSO_CLIENT_ID,
            ...(pending.nonce ? { nonce: pending.nonce } : {}),
            ...pending.identity,
          });
          return send(200, { id_token: idToken, access_token: "idp-access", token_type: "Bearer" });
        }
        default:
          return send(404, { error: "not_found" });
      }
    } catch (error) {
      return send(500, { error: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// OIDC issuers: discovery (/.well-known/openid-configuration) and their JWKS,
// cached per isolate, and verification of the ID tokens they sign.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import { z } from "zod";

const DISCOVERY_TTL_MS = 10 * 60 * 1000;
const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"];

const DiscoverySchema = z.object({
  issuer: z.string(),
  jwks_uri: z.url(),
  authorization_endpoint: z.url().optional(),
  token_endpoint: z.url().optional(),
});
export type Discovery = z.infer<typeof DiscoverySchema>;

interface Cached {
  discovery: Discovery;
  jwks: ReturnType<typeof createRemoteJWKSet>;
  expiresAt: number;
}

const cache = new Map<string, Promise<Cached>>();

async function load(issuer: string): Promise<Cached> {
  const res = await fetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, {
    headers: { Accept: "application/json" },
  });
  if (!res.ok) throw new Error(`discovery failed with ${res.status}`);
  const discovery = DiscoverySchema.parse(await res.json());
  if (discovery.issuer.replace(/\/+$/, "") !== issuer.replace(/\/+$/, "")) {
    throw new Error("discovery names another issuer");
  }
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri), { cacheMaxAge: DISCOVERY_TTL_MS });
  return { discovery, jwks, expiresAt: Date.now() + DISCOVERY_TTL_MS };
}

export async function issuerMetadata(issuer: string): Promise<Cached> {
  const hit = cache.get(issuer);
  if (hit) {
    const cached = await hit.catch(() => undefined);
    if (cached && cached.expiresAt > Date.now()) return cached;
  }
  const fresh = load(issuer);
  cache.set(issuer, fresh);
  fresh.catch(() => cache.delete(issuer));
  return fresh;
}

/** Verifies an ID token signed by `issuer` (asymmetric algorithms only); null when it is not valid. */
export async function verifyIdToken(
  issuer: string,
  token: string,
  options: { audience?: string } = {},
): Promise<JWTPayload | null> {
  try {
    const { jwks } = await issuerMetadata(issuer);
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience: options.audience,
      algorithms: ALLOWED_ALGORITHMS,
      clockTolerance: 60,
      requiredClaims: ["exp", "iat", "sub"],
    });
    return payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) return null;
    console.error("oidc verification failed", error instanceof Error ? error.name : "error");
    return null;
  }
}

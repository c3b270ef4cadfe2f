// Access tokens: ES256 JWTs signed by the server's current signing key (kid =
// key id). Verification pins alg, iss and aud, requires exp, allows 60 s of
// clock skew and looks the key up by kid, so rotated keys keep verifying.
import { SignJWT, errors, jwtVerify, type JWTPayload } from "jose";
import type { Db } from "../db/client.js";
import { getSigningKey, getVerifyKey } from "../services/server-keys.js";

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const ACCESS_TOKEN_AUDIENCE = "qala-api";
const CLOCK_TOLERANCE_SECONDS = 60;

export interface AccessClaims extends JWTPayload {
  sub: string;
  /** `user` for people; `oidc` for workloads admitted by a trust policy. */
  kind: "user" | "oidc";
  /** For `oidc`: the trust policy id and the project. */
  trust?: string;
  project?: string;
}

export interface JwtDeps {
  db: Db;
  masterKey: string;
  issuer: string;
}

export async function signAccessToken(
  deps: JwtDeps,
  claims: Omit<AccessClaims, "iss" | "aud" | "exp" | "iat">,
  ttlSeconds: number = ACCESS_TOKEN_TTL_SECONDS,
): Promise<string> {
  const { kid, key } = await getSigningKey(deps.db, deps.masterKey);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
    .setIssuer(deps.issuer)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .setJti(crypto.randomUUID())
    .sign(key);
}

/** The verified claims, or null for any token that is not ours, valid and current. */
export async function verifyAccessToken(
  deps: Omit<JwtDeps, "masterKey">,
  token: string,
): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        if (header.alg !== "ES256" || !header.kid) throw new errors.JOSEAlgNotAllowed("alg");
        const key = await getVerifyKey(deps.db, header.kid);
        if (!key) throw new errors.JWKSNoMatchingKey();
        return key;
      },
      {
        algorithms: ["ES256"],
        issuer: deps.issuer,
        audience: ACCESS_TOKEN_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp", "iat", "sub"],
      },
    );
    if (payload.kind !== "user" && payload.kind !== "oidc") return null;
    return payload as AccessClaims;
  } catch (error) {
    if (error instanceof errors.JOSEError) return null;
    throw error;
  }
}

// Bearer authentication for /v1 routes: API tokens (`qala_…`) and access JWTs
// (users, OIDC workloads). Every failure to authenticate is the same 401; a
// token used from outside its IP allowlist is 403.
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { verifyApiToken } from "../auth/api-token.js";
import { certificateMatches } from "../auth/client-certificate.js";
import { allowedBy, clientAddress } from "../auth/client-address.js";
import { verifyAccessToken } from "../auth/jwt.js";
import type { Principal } from "../auth/principal.js";
import { principalFromClaims } from "../auth/access-token-principal.js";
import { nowIso, openDb } from "../db/client.js";
import { touchToken } from "../db/access.js";
import { findApiToken } from "../db/identity.js";
import type { AppEnv } from "../env.js";
import { assertNotThrottled, recordFailure, throttleKeys } from "../services/throttle.js";
import { COORDINATED_READ } from "../routes/coordinated-read.js";
import { AppError } from "../errors.js";

/** last_used_at is kept to the minute, so a read writes to D1 at most once a minute per token. */
const TOUCH_INTERVAL_MS = 60_000;

export const issuerOf = (c: Context<AppEnv>) => c.env.QALA_ISSUER || new URL(c.req.url).origin;

export const unauthorized = (c: Context<AppEnv>) => {
  c.header("WWW-Authenticate", 'Bearer realm="qala"');
  return new AppError("unauthorized", "a valid token is required");
};

/** An API token's principal (401 and a spent throttle budget when it is not valid). */
export async function fromApiToken(c: Context<AppEnv>, token: string): Promise<Principal> {
  const db = openDb(c.env.DB);
  const now = Date.now();
  const verified = await verifyApiToken((id) => findApiToken(db, id), token, now);
  if (!verified) {
    // Failed token checks spend the client address's budget, as failed logins do.
    const keys = throttleKeys(clientAddress(c.req.raw.headers));
    await assertNotThrottled(c.env, keys);
    await recordFailure(c.env, keys);
    throw unauthorized(c);
  }
  if (!certificateMatches(verified.clientCertificates, c.req.raw.cf)) throw unauthorized(c);
  if (!allowedBy(verified.ipAllowlist, clientAddress(c.req.raw.headers))) {
    throw new AppError("forbidden", "this token may not be used from this address");
  }
  const last = verified.row.lastUsedAt ? Date.parse(verified.row.lastUsedAt) : 0;
  if (now - last > TOUCH_INTERVAL_MS) {
    c.executionCtx.waitUntil(touchToken(db, verified.row.id, nowIso(now)).then(() => undefined));
  }
  return verified.principal;
}

export const authenticate = () =>
  createMiddleware<AppEnv>(async function authenticate(c, next) {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "");
    if (!match) throw unauthorized(c);
    const token = match[1]!;
    if (
      token.startsWith("qala_svc_") &&
      c.req.method === "GET" &&
      COORDINATED_READ.test(c.req.path)
    ) {
      c.set("deferredToken", token);
      return next();
    }
    let principal: Principal | null;
    if (token.startsWith("qala_")) {
      principal = await fromApiToken(c, token);
    } else {
      const db = openDb(c.env.DB);
      const claims = await verifyAccessToken({ db, issuer: issuerOf(c) }, token);
      principal = claims ? await principalFromClaims(db, claims, c.req.raw.cf) : null;
    }
    if (!principal) throw unauthorized(c);
    c.set("principal", principal);
    await next();
  });

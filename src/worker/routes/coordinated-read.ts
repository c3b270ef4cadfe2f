// The read path of secrets: one RPC to the project's coordinator. With a
// project API token the coordinator itself authenticates and authorizes (no D1
// on a warm read); other principals are authorized here first.
import type { Context } from "hono";
import { can } from "../auth/permissions.js";
import { clientAddress } from "../auth/client-address.js";
import { coordinator, settle } from "../durable/coordinator-client.js";
import type { ReadAnswer, ReadWhat, TlsInfo } from "../durable/read-model.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { assertNotThrottled, recordFailure, throttleKeys } from "../services/throttle.js";
import { readWithToken, type ReadBase } from "../services/token-read.js";
import { db, environmentFor } from "./router.js";

/** GET routes whose project-token requests the coordinator authenticates. */
export const COORDINATED_READ =
  /^\/v1\/projects\/[^/]+\/environments\/[^/]+\/(secrets(\/[^/]+)?|export)$/;

export async function coordinatedRead(
  c: Context<AppEnv>,
  params: { project: string; env: string },
  what: ReadWhat,
): Promise<ReadAnswer> {
  const base: ReadBase = {
    ifNoneMatch: c.req.header("If-None-Match"),
    ip: clientAddress(c.req.raw.headers),
    userAgent: c.req.header("User-Agent") ?? null,
    requestId: c.get("requestId"),
  };
  const token = c.get("deferredToken");
  if (token) {
    const tls = () =>
      (c.req.raw.cf as { tlsClientAuth?: TlsInfo } | undefined)?.tlsClientAuth ?? null;
    try {
      return await readWithToken({ db: db(c), env: c.env }, token, tls, params.project, what, base);
    } catch (error) {
      // A failed token check spends the address's budget, as in the Worker's own
      // check: calls only on failure, so a good read stays one call.
      if (error instanceof AppError && error.code === "unauthorized") {
        const keys = throttleKeys(base.ip);
        await assertNotThrottled(c.env, keys);
        await recordFailure(c.env, keys);
      }
      throw error;
    }
  }
  const scope = await environmentFor(
    c,
    params,
    what.kind === "list" ? "secrets:list" : "secrets:read",
  );
  const principal = c.get("principal");
  const answer = await settle(
    coordinator(c.env, scope.project.id).read({
      ...base,
      projectId: scope.project.id,
      credential: {
        kind: "authorized",
        actor: { kind: principal.kind, id: principal.id },
        canReadValues: can(scope.access, "secrets:read", scope.environment.slug),
      },
      what: { ...what, environment: scope.environment.slug },
    }),
  );
  // Only token credentials can be asked for a certificate.
  if ("tlsNeeded" in answer) throw new Error("a certificate was asked for an authorized read");
  return answer;
}

// The read path of secrets: one RPC to the project's coordinator. With a
// project API token the coordinator itself authenticates and authorizes (no D1
// on a warm read); other principals are authorized here first.
import type { Context } from "hono";
import { can } from "../auth/permissions.js";
import { clientAddress } from "../auth/client-address.js";
import { coordinator, settle } from "../durable/coordinator-client.js";
import type { ReadAnswer, ReadRequest, ReadWhat, TlsInfo } from "../durable/read-model.js";
import type { AppEnv } from "../env.js";
import { AppError, unwrapResult, type Result } from "../errors.js";
import { forgetProjectId, projectIdOf } from "../services/project-ids.js";
import { db, environmentFor } from "./router.js";

/** GET routes whose project-token requests the coordinator authenticates. */
export const COORDINATED_READ =
  /^\/v1\/projects\/[^/]+\/environments\/[^/]+\/(secrets(\/[^/]+)?|export)$/;

type Base = Omit<ReadRequest, "projectId" | "credential" | "what">;

async function withToken(
  c: Context<AppEnv>,
  token: string,
  project: string,
  what: ReadWhat,
  base: Base,
) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const projectId = await projectIdOf(db(c), project);
    if (!projectId) throw new AppError("not_found", "project not found");
    const tls = (c.req.raw.cf as { tlsClientAuth?: TlsInfo } | undefined)?.tlsClientAuth ?? null;
    const result = (await coordinator(c.env, projectId).read({
      ...base,
      projectId,
      credential: { kind: "token", token, tls },
      what,
    })) as Result<ReadAnswer>;
    // A slug whose project was deleted (and perhaps created again): look it up afresh.
    if (
      !result.ok &&
      result.error.code === "not_found" &&
      result.error.message === "project not found"
    ) {
      forgetProjectId(project);
      continue;
    }
    return unwrapResult(result);
  }
  throw new AppError("not_found", "project not found");
}

export async function coordinatedRead(
  c: Context<AppEnv>,
  params: { project: string; env: string },
  what: ReadWhat,
): Promise<ReadAnswer> {
  const base: Base = {
    ifNoneMatch: c.req.header("If-None-Match"),
    ip: clientAddress(c.req.raw.headers),
    userAgent: c.req.header("User-Agent") ?? null,
    requestId: c.get("requestId"),
  };
  const token = c.get("deferredToken");
  if (token) return withToken(c, token, params.project, what, base);
  const scope = await environmentFor(
    c,
    params,
    what.kind === "list" ? "secrets:list" : "secrets:read",
  );
  const principal = c.get("principal");
  return settle(
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
}

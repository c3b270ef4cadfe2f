// Shared pieces of the route modules: a router whose validation failures are
// 422 envelopes, path-parameter schemas, and per-request dependencies.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { z as zod } from "zod";
import { ErrorEnvelopeSchema, SecretKeySchema } from "../../contract/index.js";
import { openDb } from "../db/client.js";
import type { Permission, ProjectSettings } from "../../contract/index.js";
import type { AuditContext, AuditInput } from "../audit/event.js";
import { recordInstanceEvent } from "../services/instance-audit.js";
import { clientAddress } from "../auth/client-address.js";
import { ENCRYPTED_MARK, RESPONSE_KEY_HEADER } from "../payload-encryption.js";
import { isInstanceAdmin, type Principal } from "../auth/principal.js";
import { coordinator } from "../durable/coordinator-client.js";
import { issuerOf } from "../middleware/authenticate.js";
import {
  AccessDenied,
  authorizeEnvironment,
  authorizeProject,
  type Caller,
} from "../services/access.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { keySource } from "../key-providers/index.js";

export function validationError(error: zod.ZodError): AppError {
  return new AppError("validation_failed", "the request is not valid", {
    details: error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
  });
}

export const newRouter = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });

export const ProjectParams = z.object({ project: z.string().min(1).max(100) });
export const EnvParams = ProjectParams.extend({ env: z.string().min(1).max(100) });
export const SecretParams = EnvParams.extend({ key: SecretKeySchema });

/** A list that is never paged (a project's environments, members, tokens…). */
export const unpaged = <T>(items: T[]) => ({ items, next_cursor: null });
export const unpagedSchema = <T extends zod.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.null() });

export const json = <T extends zod.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
export const jsonBody = <T extends zod.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

const errorResponse = json(ErrorEnvelopeSchema, "error envelope");
/** The error answers every authenticated route can give. */
export const ERRORS = {
  401: errorResponse,
  404: errorResponse,
  422: errorResponse,
} as const;
export { errorResponse };

export const db = (c: Context<AppEnv>) => openDb(c.env.DB);
export const readDeps = (c: Context<AppEnv>) => ({ db: db(c), masterKey: keySource(c.env) });
export const jwtDeps = (c: Context<AppEnv>) => ({
  db: db(c),
  masterKey: keySource(c.env),
  issuer: issuerOf(c),
});
export const actor = (c: Context<AppEnv>) => c.get("principal").id;
export const caller = (c: Context<AppEnv>): Caller => ({
  principal: c.get("principal"),
  address: clientAddress(c.req.raw.headers),
});

/** Who, from where, and which request: the audit context of a change. */
export const audit = (c: Context<AppEnv>, target: string | null): AuditContext => {
  // Public routes (logins, exchanges) have no principal yet.
  const principal = c.get("principal") as Principal | undefined;
  return {
    actor: principal ? { kind: principal.kind, id: principal.id } : { kind: "anonymous", id: null },
    ip: clientAddress(c.req.raw.headers),
    user_agent: c.req.header("User-Agent") ?? null,
    request_id: c.get("requestId"),
    target,
  };
};

/** Records an instance-level action (fail-closed: 503 when the chain cannot take it). */
export const instanceAudit = (
  c: Context<AppEnv>,
  action: string,
  target: string | null,
  extra: {
    result?: AuditInput["result"];
    actor?: AuditInput["actor"];
    details?: Record<string, unknown>;
  } = {},
) =>
  recordInstanceEvent(c.env, {
    actor: extra.actor ?? audit(c, null).actor,
    action,
    target,
    result: extra.result ?? "ok",
    ip: clientAddress(c.req.raw.headers),
    user_agent: c.req.header("User-Agent") ?? null,
    request_id: c.get("requestId"),
    details: extra.details ?? null,
  });

/**
 * Runs an instance-level action after its event is recorded (fail-closed:
 * nothing happens when the chain cannot take the event); an action that then
 * fails leaves a second event saying so.
 */
export async function instanceAction<T>(
  c: Context<AppEnv>,
  action: string,
  target: string | null,
  run: () => Promise<T>,
  details?: Record<string, unknown>,
): Promise<T> {
  await instanceAudit(c, action, target, { details });
  try {
    return await run();
  } catch (error) {
    const code = error instanceof AppError ? error.code : "internal_error";
    await instanceAudit(c, action, target, { result: "error", details: { ...details, code } });
    throw error;
  }
}

/** Whether the request body arrived as a JWE (marked by the payload-encryption layer only). */
export const encryptedRequest = (c: Context<AppEnv>) => c.req.header(ENCRYPTED_MARK) === "1";
export const responseKey = (c: Context<AppEnv>) => c.req.header(RESPONSE_KEY_HEADER);

/** Secret-bearing answers must never be stored by a cache. */
export const noStore = (c: Context<AppEnv>) => c.header("Cache-Control", "no-store");

export function requireInstanceAdmin(c: Context<AppEnv>): void {
  if (!isInstanceAdmin(c.get("principal"))) {
    throw new AppError("forbidden", "only instance admins may do this");
  }
}

/**
 * Writes one event to the project's chain through its coordinator, before the
 * answer goes out (fail-closed: 503 when it cannot).
 */
export async function recordProjectEvent(
  c: Context<AppEnv>,
  projectId: string,
  event: Pick<AuditInput, "action" | "target" | "result"> &
    Partial<Pick<AuditInput, "actor">> & { details?: Record<string, unknown> },
) {
  const result = await coordinator(c.env, projectId).record(projectId, {
    ...audit(c, event.target),
    ...event,
  });
  if (!result.ok) throw new AppError("unavailable", "the audit log is unavailable");
}

/** Refusals on an existing project are audited in its chain (auth.denied), then answered. */
async function audited<T>(
  c: Context<AppEnv>,
  permission: Permission,
  target: string | null,
  run: () => Promise<T>,
) {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AccessDenied) {
      await recordProjectEvent(c, error.projectId, {
        action: "auth.denied",
        target,
        result: "denied",
        details: { code: error.code, permission, method: c.req.method, path: c.req.path },
      });
    }
    throw error;
  }
}

/**
 * The project, authorized for `permission`, and its coordinator (the only
 * writer). Routes that change nothing name their `action`, and the access is
 * recorded; changes are recorded by the coordinator with the change itself.
 */
export async function projectFor(
  c: Context<AppEnv>,
  ref: string,
  permission: Permission,
  action?: string,
) {
  const { project, access } = await audited(c, permission, ref, () =>
    authorizeProject(db(c), caller(c), ref, permission),
  );
  if (action) await recordProjectEvent(c, project.id, { action, target: ref, result: "ok" });
  return { project, access, projectId: project.id, stub: coordinator(c.env, project.id) };
}

/** The environment of a path, authorized for `permission` in it (recorded like projectFor). */
export async function environmentFor(
  c: Context<AppEnv>,
  params: { project: string; env: string },
  permission: Permission,
  action?: string,
) {
  const scope = await audited(c, permission, params.env, () =>
    authorizeEnvironment(db(c), caller(c), params.project, params.env, permission),
  );
  if (action) {
    await recordProjectEvent(c, scope.project.id, { action, target: params.env, result: "ok" });
  }
  return scope;
}

/** The coordinator and the target of a `.../secrets/{key}` path, authorized for `permission`. */
export async function secretTarget(
  c: Context<AppEnv>,
  params: { project: string; env: string; key: string },
  permission: Permission,
) {
  const scope = await environmentFor(c, params, permission);
  return {
    stub: coordinator(c.env, scope.project.id),
    settings: JSON.parse(scope.project.settings) as ProjectSettings,
    audit: audit(c, `${scope.environment.slug}/${params.key}`),
    target: {
      projectId: scope.project.id,
      environment: scope.environment.id,
      key: params.key,
      actor: actor(c),
    },
  };
}

// Shared pieces of the route modules: a router whose validation failures are
// 422 envelopes, path-parameter schemas, and per-request dependencies.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { z as zod } from "zod";
import { ErrorEnvelopeSchema, SecretKeySchema } from "../../contract/index.js";
import { openDb } from "../db/client.js";
import { coordinator } from "../durable/coordinator-client.js";
import { requireProject } from "../services/scope.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";

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
export const readDeps = (c: Context<AppEnv>) => ({ db: db(c), masterKey: c.env.QALA_MASTER_KEY });
export const actor = (c: Context<AppEnv>) => c.get("principal").id;

/** Secret-bearing answers must never be stored by a cache. */
export const noStore = (c: Context<AppEnv>) => c.header("Cache-Control", "no-store");

/** The project named by a path segment (slug or id) and its coordinator, the only writer. */
export async function projectCoordinator(c: Context<AppEnv>, ref: string) {
  const project = await requireProject(db(c), ref);
  return { projectId: project.id, stub: coordinator(c.env, project.id) };
}

/** The coordinator and the target of a `.../secrets/{key}` path. */
export async function secretTarget(
  c: Context<AppEnv>,
  params: { project: string; env: string; key: string },
) {
  const { projectId, stub } = await projectCoordinator(c, params.project);
  return { stub, target: { projectId, environment: params.env, key: params.key, actor: actor(c) } };
}

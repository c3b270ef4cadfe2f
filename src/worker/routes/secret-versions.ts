// One secret's history and lifecycle: versions, rollback, revoke, restore, rotate.
import { createRoute, z } from "@hono/zod-openapi";
import {
  ListQuerySchema,
  RollbackBodySchema,
  SecretVersionSchema,
  SecretWriteResultSchema,
  listSchema,
} from "../../contract/index.js";
import { findSecret } from "../db/secrets.js";
import { settle } from "../durable/coordinator-client.js";
import { AppError } from "../errors.js";
import { listSecretVersions } from "../services/secrets-read.js";
import {
  ERRORS,
  SecretParams,
  db,
  environmentFor,
  errorResponse,
  json,
  jsonBody,
  newRouter,
  readDeps,
  recordProjectEvent,
  secretTarget,
} from "./router.js";
import { fetchRotatedValue, parseRotation, webhookSecret } from "../services/rotation.js";

const BASE = "/v1/projects/{project}/environments/{env}/secrets/{key}";
const VersionParams = SecretParams.extend({ version: z.coerce.number().int().min(1) });
const RevokeResultSchema = z.object({
  key: z.string(),
  version: z.number().int(),
  revoked_at: z.string(),
});
const RestoreResultSchema = z.object({ key: z.string(), version: z.number().int() });

export const secretVersionRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: `${BASE}/versions`,
      request: { params: SecretParams, query: ListQuerySchema },
      responses: {
        200: json(listSchema(SecretVersionSchema), "versions, newest first"),
        ...ERRORS,
      },
    }),
    async (c) => {
      const { project, env, key } = c.req.valid("param");
      const scope = await environmentFor(c, { project, env }, "secrets:list", "secret.versions");
      return c.json(await listSecretVersions(readDeps(c), scope, key, c.req.valid("query")), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${BASE}/rollback`,
      request: { params: SecretParams, body: jsonBody(RollbackBodySchema) },
      responses: {
        200: json(SecretWriteResultSchema, "the new version"),
        410: errorResponse,
        ...ERRORS,
      },
    }),
    async (c) => {
      const { stub, target, audit } = await secretTarget(c, c.req.valid("param"), "secrets:write");
      const { version } = c.req.valid("json");
      const result = await settle(stub.rollbackSecret({ ...target, version }, audit));
      return c.json(result, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${BASE}/versions/{version}/revoke`,
      request: { params: VersionParams },
      responses: { 200: json(RevokeResultSchema, "revoked"), 410: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const { version, ...params } = c.req.valid("param");
      const { stub, target, audit } = await secretTarget(c, params, "secrets:write");
      const result = await settle(stub.revokeVersion({ ...target, version }, audit));
      return c.json(result, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${BASE}/restore`,
      request: { params: SecretParams },
      responses: { 200: json(RestoreResultSchema, "restored"), 409: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const { stub, target, audit } = await secretTarget(c, c.req.valid("param"), "secrets:write");
      const result = await settle(stub.restoreSecret(target, audit));
      return c.json(result, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: `${BASE}/rotate`,
      request: { params: SecretParams },
      responses: {
        200: json(SecretWriteResultSchema, "the new version, from the secret's rotation policy"),
        409: errorResponse,
        502: errorResponse,
        ...ERRORS,
      },
    }),
    async (c) => {
      const params = c.req.valid("param");
      const { stub, target, audit } = await secretTarget(c, params, "secrets:rotate");
      const secret = await findSecret(db(c), target.environment, params.key);
      const policy = parseRotation(secret?.rotation ?? null);
      let value: string | undefined;
      if (secret && policy && "webhook" in policy) {
        // The webhook is called here, outside the coordinator's write queue; a failure is audited.
        try {
          value = await fetchRotatedValue({
            url: policy.webhook.url,
            secret: await webhookSecret(readDeps(c), target.projectId),
            payload: {
              project_id: target.projectId,
              environment: params.env,
              key: params.key,
              current_version: secret.currentVersion,
            },
            now: Date.now,
          });
        } catch (error) {
          if (error instanceof AppError) {
            await recordProjectEvent(c, target.projectId, {
              action: "secret.rotate",
              target: audit.target,
              result: "error",
              details: { code: error.code, ...(error.details as object) },
            });
          }
          throw error;
        }
      }
      const result = await settle(stub.rotateSecret({ ...target, value }, audit));
      c.header("ETag", `"${result.version}"`);
      return c.json(result, 200);
    },
  );

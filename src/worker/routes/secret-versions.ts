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
  secretTarget,
} from "./router.js";

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
      responses: { 409: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const { project, env, key } = c.req.valid("param");
      const scope = await environmentFor(c, { project, env }, "secrets:rotate", "secret.rotate");
      const secret = await findSecret(db(c), scope.environment.id, key);
      if (!secret || secret.deletedAt || secret.purgedAt) {
        throw new AppError("not_found", "secret not found");
      }
      // Rotation policies arrive with the lifecycle work; until then no secret has one.
      throw new AppError("conflict", "this secret has no rotation policy");
    },
  );

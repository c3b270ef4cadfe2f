// Secrets of one environment: list, read, write, bulk change, delete.
import { createRoute, z } from "@hono/zod-openapi";
import {
  BulkChangeBodySchema,
  BulkChangeResultSchema,
  ListQuerySchema,
  PutSecretBodySchema,
  SecretItemSchema,
  SecretValueSchema,
  SecretWriteResultSchema,
  listSchema,
} from "../../contract/index.js";
import { generateValue } from "../crypto/generate.js";
import { coordinator, settle } from "../durable/coordinator-client.js";
import { AppError } from "../errors.js";
import { environmentEtag, etagMatches } from "../services/etag.js";
import { can } from "../auth/permissions.js";
import { getSecretValue, listSecretItems } from "../services/secrets-read.js";
import { parsePrecondition } from "../services/secret-writes.js";
import { checkBulkSize, checkValueSize } from "../services/value-limits.js";
import {
  ERRORS,
  EnvParams,
  SecretParams,
  actor,
  audit,
  environmentFor,
  errorResponse,
  json,
  jsonBody,
  newRouter,
  noStore,
  readDeps,
  secretTarget,
} from "./router.js";

const BASE = "/v1/projects/{project}/environments/{env}/secrets";
const Boolish = z.enum(["true", "false", "1", "0"]).optional();
const truthy = (v: string | undefined) => v === "true" || v === "1";

export const secretRoutes = newRouter();

secretRoutes.openapi(
  createRoute({
    method: "get",
    path: BASE,
    request: { params: EnvParams, query: ListQuerySchema.extend({ values: Boolish }) },
    responses: {
      200: json(listSchema(SecretItemSchema), "the environment's secrets"),
      304: { description: "unchanged since If-None-Match" },
      ...ERRORS,
    },
  }),
  async (c) => {
    const { project, env } = c.req.valid("param");
    const { limit, cursor, values } = c.req.valid("query");
    // The revision is read before the rows, so an ETag can only be older than
    // the data it labels (an extra 200 later), never newer (a stale 304).
    const scope = await environmentFor(c, { project, env }, "secrets:list");
    // Without secrets:read, values are never present (the list still answers).
    const withValues = truthy(values) && can(scope.access, "secrets:read", scope.environment.slug);
    const variant = `list-${withValues ? "values" : "keys"}-${limit}-${cursor ?? ""}`;
    const etag = environmentEtag(scope.environment.id, scope.environment.revision, variant);
    noStore(c);
    c.header("ETag", etag);
    if (etagMatches(c.req.header("If-None-Match"), etag)) return c.body(null, 304);
    const result = await listSecretItems(readDeps(c), scope, { limit, cursor, values: withValues });
    return c.json(result, 200);
  },
);

secretRoutes.openapi(
  createRoute({
    method: "get",
    path: `${BASE}/{key}`,
    request: {
      params: SecretParams,
      query: z.object({ version: z.coerce.number().int().min(1).optional() }),
    },
    responses: {
      200: json(SecretValueSchema, "the value"),
      410: errorResponse,
      ...ERRORS,
    },
  }),
  async (c) => {
    const { project, env, key } = c.req.valid("param");
    const scope = await environmentFor(c, { project, env }, "secrets:read");
    const secret = await getSecretValue(readDeps(c), scope, key, c.req.valid("query").version);
    noStore(c);
    c.header("ETag", `"${secret.version}"`);
    return c.json(secret, 200);
  },
);

secretRoutes.openapi(
  createRoute({
    method: "put",
    path: `${BASE}/{key}`,
    request: { params: SecretParams, body: jsonBody(PutSecretBodySchema) },
    responses: {
      200: json(SecretWriteResultSchema, "a new version"),
      201: json(SecretWriteResultSchema, "the first version"),
      412: errorResponse,
      413: errorResponse,
      ...ERRORS,
    },
  }),
  async (c) => {
    const params = c.req.valid("param");
    const body = c.req.valid("json");
    if (body.rotation !== undefined) {
      throw new AppError("validation_failed", "rotation policies are not supported yet", {
        details: [{ path: ["rotation"], message: "not supported yet" }],
      });
    }
    const value = body.value ?? generateValue(body.generate!);
    checkValueSize(params.key, value);
    const { stub, target, audit } = await secretTarget(c, params, "secrets:write");
    const { created, ...result } = await settle(
      stub.putSecret(
        {
          ...target,
          value,
          tags: body.tags,
          note: body.note,
          precondition: parsePrecondition(c.req.header("If-Match"), c.req.header("If-None-Match")),
        },
        audit,
      ),
    );
    c.header("ETag", `"${result.version}"`);
    return c.json(result, created ? 201 : 200);
  },
);

secretRoutes.openapi(
  createRoute({
    method: "patch",
    path: BASE,
    request: { params: EnvParams, body: jsonBody(BulkChangeBodySchema) },
    responses: {
      200: json(BulkChangeResultSchema, "how many keys changed"),
      413: errorResponse,
      ...ERRORS,
    },
  }),
  async (c) => {
    const { project: ref, env } = c.req.valid("param");
    const body = c.req.valid("json");
    const set = body.set ?? {};
    const remove = body.delete ?? [];
    checkBulkSize(set, remove);
    const scope = await environmentFor(c, { project: ref, env }, "secrets:write");
    if (remove.length && !can(scope.access, "secrets:delete", scope.environment.slug)) {
      throw new AppError("forbidden", "this needs the secrets:delete permission");
    }
    const result = await settle(
      coordinator(c.env, scope.project.id).bulkChange(
        {
          projectId: scope.project.id,
          environment: scope.environment.id,
          set,
          delete: remove,
          actor: actor(c),
        },
        audit(c, scope.environment.slug),
      ),
    );
    return c.json(result, 200);
  },
);

secretRoutes.openapi(
  createRoute({
    method: "delete",
    path: `${BASE}/{key}`,
    request: { params: SecretParams, query: z.object({ purge: Boolish }) },
    responses: { 204: { description: "deleted" }, ...ERRORS },
  }),
  async (c) => {
    const { stub, target, audit } = await secretTarget(c, c.req.valid("param"), "secrets:delete");
    const purge = truthy(c.req.valid("query").purge);
    await settle(stub.deleteSecret({ ...target, purge }, audit));
    return c.body(null, 204);
  },
);

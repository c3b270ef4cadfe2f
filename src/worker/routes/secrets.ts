// Secrets of one environment: list, read, write, bulk change, delete.
import { createRoute } from "@hono/zod-openapi";
import {
  BulkChangeBodySchema,
  BulkChangeResultSchema,
  DeleteQuerySchema,
  SecretGetQuerySchema,
  SecretListQuerySchema,
  isTrue,
  PutSecretBodySchema,
  SecretItemSchema,
  SecretValueSchema,
  SecretWriteResultSchema,
  listSchema,
} from "../../contract/index.js";
import { generateValue } from "../crypto/generate.js";
import { coordinator, settle } from "../durable/coordinator-client.js";
import { AppError } from "../errors.js";
import { can } from "../auth/permissions.js";
import { checkEncryptedRequest, checkSealedResponse } from "../services/encryption-policy.js";
import { encryptedRequest, responseKey } from "./router.js";
import { decryptRows } from "../services/sealed-rows.js";
import { listBody, secretBody } from "../services/read-views.js";
import { coordinatedRead } from "./coordinated-read.js";
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
import { webhookSecret } from "../services/rotation.js";
import { keySource } from "../key-providers/index.js";

const BASE = "/v1/projects/{project}/environments/{env}/secrets";

export const secretRoutes = newRouter();

secretRoutes.openapi(
  createRoute({
    method: "get",
    path: BASE,
    request: { params: EnvParams, query: SecretListQuerySchema },
    responses: {
      200: json(listSchema(SecretItemSchema), "the environment's secrets"),
      304: { description: "unchanged since If-None-Match" },
      ...ERRORS,
    },
  }),
  async (c) => {
    const { project, env } = c.req.valid("param");
    const { limit, cursor, values } = c.req.valid("query");
    const what = { kind: "list" as const, environment: env, values: isTrue(values), limit, cursor };
    const answer = await coordinatedRead(c, { project, env }, what);
    noStore(c);
    c.header("ETag", answer.etag);
    if (answer.notModified) return c.body(null, 304);
    checkSealedResponse(answer.requireEncryptedPayloads && answer.withValues, responseKey(c));
    // Without secrets:read, values are never present (the list still answers).
    const plain = answer.withValues
      ? await decryptRows(keySource(c.env), answer, answer.rows, answer.keks)
      : [];
    return c.json(listBody(answer, plain), 200);
  },
);

secretRoutes.openapi(
  createRoute({
    method: "get",
    path: `${BASE}/{key}`,
    request: { params: SecretParams, query: SecretGetQuerySchema },
    responses: {
      200: json(SecretValueSchema, "the value"),
      410: errorResponse,
      ...ERRORS,
    },
  }),
  async (c) => {
    const { project, env, key } = c.req.valid("param");
    const { version } = c.req.valid("query");
    const answer = await coordinatedRead(
      c,
      { project, env },
      { kind: "secret", environment: env, key, version },
    );
    // A single-secret read is never conditional, so the coordinator always sends the row.
    if (answer.notModified) throw new Error("unexpected 304 for a single secret");
    checkSealedResponse(answer.requireEncryptedPayloads, responseKey(c));
    const row = answer.rows[0]!;
    const [value] = await decryptRows(keySource(c.env), answer, [row], answer.keks);
    noStore(c);
    c.header("ETag", `"${row.version}"`);
    return c.json(secretBody(row, value!), 200);
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
    const value = body.value ?? generateValue(body.generate!);
    checkValueSize(params.key, value);
    const { stub, target, audit, settings } = await secretTarget(c, params, "secrets:write");
    if (body.value !== undefined) checkEncryptedRequest(settings, encryptedRequest(c));
    const { created, ...result } = await settle(
      stub.putSecret(
        {
          ...target,
          value,
          tags: body.tags,
          note: body.note,
          rotation: body.rotation,
          precondition: parsePrecondition(c.req.header("If-Match"), c.req.header("If-None-Match")),
        },
        audit,
      ),
    );
    c.header("ETag", `"${result.version}"`);
    // Whoever sets a webhook policy gets the key its receiver checks signatures with.
    const webhook_secret =
      body.rotation && "webhook" in body.rotation
        ? await webhookSecret(readDeps(c), target.projectId)
        : undefined;
    return c.json(
      { ...result, ...(webhook_secret ? { webhook_secret } : {}) },
      created ? 201 : 200,
    );
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
    if (Object.keys(set).length) {
      checkEncryptedRequest(JSON.parse(scope.project.settings), encryptedRequest(c));
    }
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
    request: { params: SecretParams, query: DeleteQuerySchema },
    responses: { 204: { description: "deleted" }, ...ERRORS },
  }),
  async (c) => {
    const { stub, target, audit } = await secretTarget(c, c.req.valid("param"), "secrets:delete");
    const purge = isTrue(c.req.valid("query").purge);
    await settle(stub.deleteSecret({ ...target, purge }, audit));
    return c.body(null, 204);
  },
);

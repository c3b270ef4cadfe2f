// Vault's KV v2 engine over Qalá (API.md "Vault compatibility"): the mount is
// the project, a secret's path is `<environment>/<key>`, and each Vault
// version is a Qalá version. Reads, writes and deletes take the same
// authorization, rate limits, audit and coordinator as the /v1 routes.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { Permission } from "../../contract/index.js";
import { keySource } from "../key-providers/index.js";
import { settle } from "../durable/coordinator-client.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { coordinatedRead } from "../routes/coordinated-read.js";
import {
  encryptedRequest,
  environmentFor,
  projectFor,
  responseKey,
  secretTarget,
} from "../routes/router.js";
import { checkEncryptedRequest, checkSealedResponse } from "../services/encryption-policy.js";
import { decryptRows } from "../services/sealed-rows.js";
import { checkValueSize } from "../services/value-limits.js";
import { answer, badRequest, history, secretPath, versionMetadata } from "./kv-common.js";
import { mergePatch, toDocument, toValue, type KvDocument } from "./kv-data.js";
import { isList, list, metadata, mountOf } from "./kv-metadata.js";

async function jsonBody(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const body: unknown = await c.req.json().catch(() => null);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("the request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

const WriteBody = z.object({
  data: z.record(z.string(), z.unknown()),
  options: z
    .object({ cas: z.number().int().min(0).optional() })
    .passthrough()
    .optional(),
});
const VersionsBody = z.object({
  versions: z.array(z.number().int().min(1)).min(1).max(1000),
});

async function readData(c: Context<AppEnv>) {
  const params = secretPath(c);
  const raw = c.req.query("version");
  const version = raw === undefined || raw === "0" ? undefined : Number(raw);
  if (version !== undefined && !(Number.isInteger(version) && version > 0)) {
    throw badRequest("version must be a positive integer");
  }
  try {
    const read = await coordinatedRead(c, params, {
      kind: "secret",
      environment: params.env,
      key: params.key,
      version,
    });
    if (read.notModified) throw new Error("unexpected 304 for a single secret");
    checkSealedResponse(read.requireEncryptedPayloads, responseKey(c));
    const row = read.rows[0]!;
    const [value] = await decryptRows(keySource(c.env), read, [row], read.keks);
    return answer(c, {
      data: toDocument(value!),
      metadata: {
        created_time: row.createdAt,
        custom_metadata: null,
        deletion_time: "",
        destroyed: false,
        version: row.version,
      },
    });
  } catch (error) {
    // Vault answers a deleted or destroyed version with 404 and its metadata.
    if (!(error instanceof AppError) || (error.code !== "not_found" && error.code !== "gone")) {
      throw error;
    }
    const scope = await environmentFor(c, params, "secrets:list");
    const found = await history(c, scope.environment.id, params.key);
    const wanted = version ?? found?.secret.currentVersion;
    const row = found?.versions.find((v) => v.version === wanted);
    if (!found || !row) throw error;
    const deletedAt = found.deletedAt(row);
    // A revoked version keeps Qalá's 410: Vault has no revocation to mimic.
    if (!deletedAt && !row.destroyedAt) throw error;
    return answer(c, { data: null, metadata: versionMetadata(row, deletedAt) }, 404);
  }
}

async function write(c: Context<AppEnv>, patch: boolean) {
  const params = secretPath(c);
  const parsed = WriteBody.safeParse(await jsonBody(c));
  if (!parsed.success) throw badRequest('the body is {"data": {...}, "options"?: {"cas"?: n}}');
  const { data, options } = parsed.data;
  const { stub, target, audit, settings } = await secretTarget(c, params, "secrets:write");
  checkEncryptedRequest(settings, encryptedRequest(c));
  let document: KvDocument = data;
  let cas = options?.cas;
  if (patch) {
    // Vault's patch: merge into the current version, which must exist; the
    // write is conditional on that version, so a concurrent change is not lost.
    const read = await coordinatedRead(c, params, {
      kind: "secret",
      environment: params.env,
      key: params.key,
    });
    if (read.notModified) throw new Error("unexpected 304 for a single secret");
    const row = read.rows[0]!;
    if (cas !== undefined && cas !== row.version) throw casMismatch();
    const [value] = await decryptRows(keySource(c.env), read, [row], read.keks);
    document = mergePatch(toDocument(value!), data);
    cas = row.version;
  }
  const value = toValue(document);
  checkValueSize(params.key, value);
  try {
    const result = await settle(
      stub.putSecret(
        {
          ...target,
          value,
          precondition:
            cas === undefined ? {} : cas === 0 ? { ifNoneMatchAny: true } : { ifMatch: cas },
        },
        audit,
      ),
    );
    return answer(c, {
      created_time: result.created_at,
      custom_metadata: null,
      deletion_time: "",
      destroyed: false,
      version: result.version,
    });
  } catch (error) {
    if (error instanceof AppError && error.code === "precondition_failed") throw casMismatch();
    throw error;
  }
}

const casMismatch = () => badRequest("check-and-set parameter did not match the current version");

/** delete / undelete / destroy of some versions (or, for DELETE data, the current one). */
async function lifecycle(
  c: Context<AppEnv>,
  operation: "deleteVersions" | "undeleteVersions" | "destroyVersions",
  versions?: "current",
) {
  const params = secretPath(c);
  const permission: Permission =
    operation === "undeleteVersions" ? "secrets:write" : "secrets:delete";
  const { stub, target, audit } = await secretTarget(c, params, permission);
  let chosen: number[] | "current" | undefined = versions;
  if (!chosen) {
    const parsed = VersionsBody.safeParse(await jsonBody(c));
    if (!parsed.success) throw badRequest('the body is {"versions": [n, ...]}');
    chosen = parsed.data.versions;
  }
  await settle(stub[operation]({ ...target, versions: chosen }, audit));
  return c.body(null, 204);
}

const DATA = "/v1/:mount/data/:env/:key";
const METADATA = "/v1/:mount/metadata/:env/:key";

export const kvRoutes = new Hono<AppEnv>()
  .get("/v1/sys/internal/ui/mounts/*", mountOf)
  .get("/v1/:mount/config", async (c) => {
    const { project } = await projectFor(c, c.req.param("mount"), "project:read", "project.read");
    return answer(c, {
      cas_required: false,
      delete_version_after: "0s",
      max_versions: JSON.parse(project.settings).max_versions ?? 0,
    });
  })
  .get(DATA, readData)
  .on(["POST", "PUT"], DATA, (c) => write(c, false))
  .patch(DATA, (c) => write(c, true))
  // Vault's DELETE of data soft-deletes the latest version.
  .delete(DATA, (c) => lifecycle(c, "deleteVersions", "current"))
  .on(["POST", "PUT"], "/v1/:mount/delete/:env/:key", (c) => lifecycle(c, "deleteVersions"))
  .on(["POST", "PUT"], "/v1/:mount/undelete/:env/:key", (c) => lifecycle(c, "undeleteVersions"))
  .on(["POST", "PUT"], "/v1/:mount/destroy/:env/:key", (c) => lifecycle(c, "destroyVersions"))
  .on(["GET", "LIST"], "/v1/:mount/metadata", (c) =>
    isList(c) ? list(c, undefined) : Promise.reject(badRequest("list the mount with ?list=true")),
  )
  .on(["GET", "LIST"], "/v1/:mount/metadata/", (c) =>
    isList(c) ? list(c, undefined) : Promise.reject(badRequest("list the mount with ?list=true")),
  )
  .on(["GET", "LIST"], "/v1/:mount/metadata/:env{[^/]+/?}", (c) => {
    const env = c.req.param("env").replace(/\/$/, "");
    if (!isList(c)) throw badRequest(`${env} is an environment: list it with ?list=true`);
    return list(c, env);
  })
  .on(["GET", "LIST"], METADATA, (c) => {
    if (isList(c)) throw new AppError("not_found", "nothing to list");
    return metadata(c);
  })
  .delete(METADATA, async (c) => {
    // Every version and the key itself, for good (wrapped DEKs deleted).
    const { stub, target, audit } = await secretTarget(c, secretPath(c), "secrets:delete");
    await settle(stub.deleteSecret({ ...target, purge: true }, audit));
    return c.body(null, 204);
  })
  .on(["POST", "PUT", "PATCH"], METADATA, () => {
    throw badRequest(
      "Qalá keeps no per-secret KV settings: max_versions is a project setting (PATCH /v1/projects/:project)",
    );
  });

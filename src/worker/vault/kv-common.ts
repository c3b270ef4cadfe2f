// What the KV v2 routes share: Vault's response envelope, the checked
// `<environment>/<key>` path, and a secret's versions as Vault describes them.
import type { Context } from "hono";
import { SecretKeySchema, SlugSchema } from "../../contract/index.js";
import { findSecret, listVersions, type SecretVersionRow } from "../db/secrets.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { db } from "../routes/router.js";

/** Vault's response envelope around `data`. */
export function answer(c: Context<AppEnv>, data: unknown, status: 200 | 404 = 200) {
  return c.json(
    {
      request_id: c.get("requestId"),
      lease_id: "",
      renewable: false,
      lease_duration: 0,
      data,
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: "kv",
    },
    status,
  );
}

export const badRequest = (message: string) => new AppError("bad_request", message);

/** The mount, environment and key of a KV path, checked. */
export function secretPath(c: Context<AppEnv>) {
  const project = c.req.param("mount") ?? "";
  const env = c.req.param("env") ?? "";
  const key = c.req.param("key") ?? "";
  if (!SlugSchema.safeParse(env).success || !SecretKeySchema.safeParse(key).success) {
    throw badRequest(`a secret's path is <environment>/<key>; "${env}/${key}" is not one`);
  }
  return { project, env, key };
}

export const versionMetadata = (v: SecretVersionRow, deletedAt: string | null) => ({
  created_time: v.createdAt,
  custom_metadata: null,
  deletion_time: deletedAt ?? "",
  destroyed: v.destroyedAt !== null,
  version: v.version,
});

/** The secret's rows for metadata answers (D1, after the request was authorized). */
export async function history(c: Context<AppEnv>, environmentId: string, key: string) {
  const secret = await findSecret(db(c), environmentId, key);
  if (!secret || secret.purgedAt) return null;
  const versions = await listVersions(db(c), secret.id, 1000);
  // A secret deleted as a whole shows as its current version deleted.
  const deletedAt = (v: SecretVersionRow) =>
    v.deletedAt ?? (v.version === secret.currentVersion ? secret.deletedAt : null);
  return { secret, versions, deletedAt };
}

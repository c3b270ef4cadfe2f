// KV v2 metadata: a secret's versions, listings of environments and keys
// (`GET ?list=true`), and the mount probe the Vault CLI makes first.
import type { Context } from "hono";
import { seesEnvironment } from "../auth/permissions.js";
import { listEnvironments } from "../db/projects.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { coordinatedRead } from "../routes/coordinated-read.js";
import { db, environmentFor, projectFor } from "../routes/router.js";
import { answer, badRequest, history, secretPath, versionMetadata } from "./kv-common.js";

export async function metadata(c: Context<AppEnv>) {
  const params = secretPath(c);
  const scope = await environmentFor(c, params, "secrets:list", "secret.versions");
  const found = await history(c, scope.environment.id, params.key);
  if (!found) throw new AppError("not_found", "secret not found");
  const { secret, versions, deletedAt } = found;
  const oldest = versions.filter((v) => !v.destroyedAt).at(-1)?.version ?? 0;
  return answer(c, {
    cas_required: false,
    created_time: secret.createdAt,
    current_version: secret.currentVersion,
    custom_metadata: null,
    delete_version_after: "0s",
    max_versions: JSON.parse(scope.project.settings).max_versions ?? 0,
    oldest_version: oldest,
    updated_time: secret.updatedAt,
    versions: Object.fromEntries(
      [...versions].reverse().map((v) => {
        const { version, ...rest } = versionMetadata(v, deletedAt(v));
        return [String(version), rest];
      }),
    ),
  });
}

export const isList = (c: Context<AppEnv>) => {
  const list = c.req.query("list");
  return list === "true" || list === "1" || c.req.method === "LIST";
};

/** `metadata/?list=true`: the environments; `metadata/<env>/?list=true`: the keys. */
export async function list(c: Context<AppEnv>, env: string | undefined) {
  const project = c.req.param("mount") ?? "";
  if (!env) {
    const { project: row, access } = await projectFor(c, project, "project:read", "secret.list");
    const keys = (await listEnvironments(db(c), row.id))
      .filter((e) => seesEnvironment(access, e.slug))
      .map((e) => `${e.slug}/`);
    if (!keys.length) throw new AppError("not_found", "nothing to list");
    return answer(c, { keys });
  }
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await coordinatedRead(
      c,
      { project, env },
      { kind: "list", environment: env, values: false, limit: 1000, cursor },
    );
    if (page.notModified) throw new Error("unexpected 304 for a list");
    keys.push(...page.rows.map((r) => r.key));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (!keys.length) throw new AppError("not_found", "nothing to list");
  return answer(c, { keys });
}

/** The preflight the Vault CLI makes to learn a mount's type and KV version. */
export async function mountOf(c: Context<AppEnv>) {
  const path = c.req.path.replace(/^.*\/sys\/internal\/ui\/mounts\/?/, "");
  const mount = path.split("/")[0] ?? "";
  if (mount === "transit") {
    return c.json({ data: { path: "transit/", type: "transit", options: null } }, 200);
  }
  if (!mount) throw badRequest("give a path: sys/internal/ui/mounts/<project>/...");
  const { project } = await projectFor(c, mount, "project:read", "project.read");
  return c.json(
    {
      data: {
        path: `${mount}/`,
        type: "kv",
        description: `Qalá project ${project.slug}`,
        options: { version: "2" },
        local: false,
        seal_wrap: false,
        external_entropy_access: false,
        config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
      },
    },
    200,
  );
}

// The cron job's work on one project, run by its coordinator: purge secrets
// soft-deleted longer than `deleted_retention_days` (default 30) and destroy
// versions beyond `max_versions`, deleting their wrapped DEKs (crypto-shredding).
import type { ProjectSettings } from "../../contract/index.js";
import { nowIso } from "../db/client.js";
import { bumpRevision, findProject, listEnvironments } from "../db/projects.js";
import { deletedBefore, destroyVersion, purgeStatements, versionsBeyond } from "../db/secrets.js";
import type { ChangeDeps } from "./write-deps.js";

export const DEFAULT_DELETED_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

export async function maintainProject(
  deps: ChangeDeps,
  projectId: string,
): Promise<{ purged: number; destroyed: number }> {
  const project = await findProject(deps.db, projectId);
  if (!project) return { purged: 0, destroyed: 0 };
  const settings = JSON.parse(project.settings) as ProjectSettings;
  const environments = await listEnvironments(deps.db, projectId);
  const ids = environments.map((e) => e.id);
  if (ids.length === 0) return { purged: 0, destroyed: 0 };
  const now = deps.now();
  const at = nowIso(now);
  const retentionDays = settings.deleted_retention_days ?? DEFAULT_DELETED_RETENTION_DAYS;
  const expired = await deletedBefore(deps.db, ids, nowIso(now - retentionDays * DAY_MS));
  const beyond = settings.max_versions
    ? await versionsBeyond(deps.db, ids, settings.max_versions)
    : [];
  if (expired.length === 0 && beyond.length === 0) return { purged: 0, destroyed: 0 };
  const touched = new Set([...expired.map((s) => s.environmentId)]);
  const statements = [
    ...expired.flatMap((secret) => purgeStatements(deps.db, secret, at)),
    ...beyond.map((v) => destroyVersion(deps.db, v.secretId, v.version, at)),
    ...(beyond.length ? ids : [...touched]).map((id) => bumpRevision(deps.db, id)),
  ];
  await deps.land(statements);
  return { purged: expired.length, destroyed: beyond.length };
}

// Vault KV v2's per-version lifecycle on Qalá's versions: soft delete,
// undelete and destroy. Runs inside the project's coordinator like every
// write. While its current version is deleted, a key reads as 404 and lists
// and exports leave it out (older versions stay readable by number, as in
// Vault); undeleting it, restoring it or writing a new version brings it
// back. Destroying deletes the versions' wrapped DEKs (crypto-shredding):
// nothing brings them back.
import { nowIso } from "../db/client.js";
import { bumpRevision, findEnvironment } from "../db/projects.js";
import {
  destroyVersion,
  findSecret,
  findVersions,
  markDeleted,
  markVersionsDeleted,
} from "../db/secrets.js";
import { AppError } from "../errors.js";
import type { SecretTarget } from "./secret-writes.js";
import type { ChangeDeps } from "./write-deps.js";

export interface VersionsTarget extends SecretTarget {
  /** Version numbers, or the current version as the coordinator sees it (Vault's DELETE data). */
  versions: number[] | "current";
}

async function versionsOf(deps: ChangeDeps, target: VersionsTarget) {
  const environment = await findEnvironment(deps.db, target.projectId, target.environment);
  if (!environment) throw new AppError("not_found", "environment not found");
  const secret = await findSecret(deps.db, environment.id, target.key);
  if (!secret || secret.purgedAt) throw new AppError("not_found", "secret not found");
  const named = target.versions === "current" ? [secret.currentVersion] : target.versions;
  const versions = await findVersions(deps.db, secret.id, named);
  return { environment, secret, named, versions };
}

/** Soft-deletes versions (those that do not exist are ignored, as in Vault). */
export async function deleteVersions(
  deps: ChangeDeps,
  target: VersionsTarget,
): Promise<{ versions: number[] }> {
  const { environment, secret, versions } = await versionsOf(deps, target);
  const chosen = versions.filter((v) => !v.deletedAt && !v.destroyedAt).map((v) => v.version);
  if (!chosen.length) return { versions: [] };
  await deps.land([
    markVersionsDeleted(deps.db, secret.id, chosen, nowIso(deps.now())),
    bumpRevision(deps.db, environment.id),
  ]);
  return { versions: chosen };
}

/**
 * Undoes a soft delete. Naming the current version of a key deleted as a
 * whole (Qalá's DELETE) restores the key too.
 */
export async function undeleteVersions(
  deps: ChangeDeps,
  target: VersionsTarget,
): Promise<{ versions: number[] }> {
  const { environment, secret, named, versions } = await versionsOf(deps, target);
  const chosen = versions.filter((v) => v.deletedAt && !v.destroyedAt).map((v) => v.version);
  const restore = named.includes(secret.currentVersion) && secret.deletedAt !== null;
  if (!chosen.length && !restore) return { versions: [] };
  await deps.land([
    ...(chosen.length ? [markVersionsDeleted(deps.db, secret.id, chosen, null)] : []),
    ...(restore ? [markDeleted(deps.db, secret.id, null)] : []),
    bumpRevision(deps.db, environment.id),
  ]);
  return { versions: chosen };
}

/** Destroys versions for good: their wrapped DEKs are deleted. */
export async function destroyVersions(
  deps: ChangeDeps,
  target: VersionsTarget,
): Promise<{ versions: number[] }> {
  const { environment, secret, versions } = await versionsOf(deps, target);
  const chosen = versions.filter((v) => !v.destroyedAt).map((v) => v.version);
  if (!chosen.length) return { versions: [] };
  const at = nowIso(deps.now());
  await deps.land([
    ...chosen.map((version) => destroyVersion(deps.db, secret.id, version, at)),
    bumpRevision(deps.db, environment.id),
  ]);
  return { versions: chosen };
}

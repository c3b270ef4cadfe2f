// The read side of secrets: list, get, history and export. Reads go to D1 and
// decrypt in the Worker; writes go through the project's coordinator.
import type { SecretItem, SecretValue, SecretVersion } from "../../contract/index.js";
import type { Db } from "../db/client.js";
import {
  findSecret,
  findSecretVersion,
  listCurrent,
  listVersions,
  type SecretRow,
  type SecretVersionRow,
} from "../db/secrets.js";
import { IntegrityError } from "../crypto/aead.js";
import { decryptValue } from "../crypto/envelope.js";
import { AppError } from "../errors.js";
import { kekById } from "./kek-provider.js";
import { decodeCursor, page } from "./pagination.js";
import type { EnvironmentScope } from "./scope.js";

export interface ReadDeps {
  db: Db;
  masterKey: string;
}

const idsOf = (scope: EnvironmentScope) => ({
  projectId: scope.project.id,
  environmentId: scope.environment.id,
});

const parseTags = (text: string): string[] => JSON.parse(text) as string[];

/** Decrypts one stored version; a failure is an integrity error, never a fallback. */
export async function decryptVersion(
  deps: ReadDeps,
  ids: { projectId: string; environmentId: string },
  secret: SecretRow,
  version: SecretVersionRow,
): Promise<string> {
  if (!version.ciphertext || !version.iv || !version.wrappedDek) {
    throw new AppError("gone", `version ${version.version} of ${secret.key} is destroyed`);
  }
  try {
    const kek = await kekById(deps.db, deps.masterKey, version.kekId);
    return await decryptValue(
      kek,
      {
        projectId: ids.projectId,
        environmentId: ids.environmentId,
        secretId: secret.id,
        key: secret.key,
        version: version.version,
      },
      { ciphertext: version.ciphertext, iv: version.iv, wrappedDek: version.wrappedDek },
    );
  } catch (error) {
    if (error instanceof IntegrityError) {
      throw new AppError("integrity_error", "a stored ciphertext failed authentication", {
        cause: error,
      });
    }
    throw error;
  }
}

const isUnreadable = (v: SecretVersionRow) => v.revokedAt !== null || v.destroyedAt !== null;

export async function listSecretItems(
  deps: ReadDeps,
  scope: EnvironmentScope,
  options: { limit: number; cursor?: string; values: boolean },
): Promise<{ items: SecretItem[]; next_cursor: string | null }> {
  const after = decodeCursor<string>(options.cursor, "string");
  const rows = await listCurrent(deps.db, scope.environment.id, { limit: options.limit, after });
  const result = page(
    rows,
    options.limit,
    ({ secret, version }): SecretItem => ({
      key: secret.key,
      version: secret.currentVersion,
      updated_at: secret.updatedAt,
      updated_by: secret.updatedBy,
      tags: parseTags(secret.tags),
      note: secret.note,
      ...(isUnreadable(version) ? { revoked: true } : {}),
    }),
    ({ secret }) => secret.key,
  );
  if (options.values) {
    const shown = rows.slice(0, result.items.length);
    await Promise.all(
      shown.map(async ({ secret, version }, i) => {
        if (!isUnreadable(version)) {
          result.items[i]!.value = await decryptVersion(deps, idsOf(scope), secret, version);
        }
      }),
    );
  }
  return result;
}

async function requireLiveSecret(deps: ReadDeps, scope: EnvironmentScope, key: string) {
  const secret = await findSecret(deps.db, scope.environment.id, key);
  if (!secret || secret.deletedAt || secret.purgedAt) {
    throw new AppError("not_found", "secret not found");
  }
  return secret;
}

export async function getSecretValue(
  deps: ReadDeps,
  scope: EnvironmentScope,
  key: string,
  requestedVersion?: number,
): Promise<SecretValue> {
  const row = await findSecretVersion(deps.db, scope.environment.id, key, requestedVersion);
  const secret = row?.secret;
  if (!secret || secret.deletedAt || secret.purgedAt) {
    throw new AppError("not_found", "secret not found");
  }
  const version = row.version;
  const versionNumber = requestedVersion ?? secret.currentVersion;
  if (!version || version.deletedAt) throw new AppError("not_found", "version not found");
  if (version.revokedAt) throw new AppError("gone", `version ${versionNumber} is revoked`);
  if (version.destroyedAt) throw new AppError("gone", `version ${versionNumber} is destroyed`);
  return {
    key: secret.key,
    value: await decryptVersion(deps, idsOf(scope), secret, version),
    version: version.version,
    created_at: version.createdAt,
    created_by: version.createdBy,
    tags: parseTags(secret.tags),
    note: secret.note,
  };
}

export async function listSecretVersions(
  deps: ReadDeps,
  scope: EnvironmentScope,
  key: string,
  options: { limit: number; cursor?: string },
): Promise<{ items: SecretVersion[]; next_cursor: string | null }> {
  const secret = await requireLiveSecret(deps, scope, key);
  const before = decodeCursor<number>(options.cursor, "number");
  const rows = await listVersions(deps.db, secret.id, options.limit, before);
  return page(
    rows,
    options.limit,
    (v): SecretVersion => ({
      version: v.version,
      created_at: v.createdAt,
      created_by: v.createdBy,
      revoked_at: v.revokedAt,
      destroyed_at: v.destroyedAt,
    }),
    (v) => v.version,
  );
}

/** Every readable current value of the environment, and the keys left out (revoked). */
export async function readEnvironment(
  deps: ReadDeps,
  scope: EnvironmentScope,
): Promise<{ values: Map<string, string>; skipped: string[] }> {
  const rows = await listCurrent(deps.db, scope.environment.id);
  const values = new Map<string, string>();
  const skipped: string[] = [];
  const decrypted = await Promise.all(
    rows.map(({ secret, version }) =>
      isUnreadable(version) ? null : decryptVersion(deps, idsOf(scope), secret, version),
    ),
  );
  rows.forEach(({ secret }, i) => {
    const value = decrypted[i];
    if (value === null || value === undefined) skipped.push(secret.key);
    else values.set(secret.key, value);
  });
  return { values, skipped };
}

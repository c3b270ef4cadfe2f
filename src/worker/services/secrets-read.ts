// Reading stored versions in the Worker: decrypting one (rollback) and a
// secret's history. Everyday reads take the coordinator's one-call path.
import type { SecretVersion } from "../../contract/index.js";
import type { Db } from "../db/client.js";
import { findSecret, listVersions, type SecretRow, type SecretVersionRow } from "../db/secrets.js";
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

async function requireLiveSecret(deps: ReadDeps, scope: EnvironmentScope, key: string) {
  const secret = await findSecret(deps.db, scope.environment.id, key);
  if (!secret || secret.deletedAt || secret.purgedAt) {
    throw new AppError("not_found", "secret not found");
  }
  return secret;
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

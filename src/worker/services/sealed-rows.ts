// Decrypts the ciphertext rows a coordinator hands back, with the wrapped KEKs
// it sent along (unwrapped once per isolate), so a warm read touches no D1.
import { IntegrityError } from "../crypto/aead.js";
import { decryptValue, unwrapKek } from "../crypto/envelope.js";
import { cachedKek } from "../crypto/kek-cache.js";
import { loadMasterKeyring } from "../key-providers/index.js";
import type { SealedRow, WrappedKekRow } from "../durable/read-model.js";
import { AppError } from "../errors.js";

export async function decryptRows(
  masterKey: string,
  ids: { projectId: string; environmentId: string },
  rows: readonly SealedRow[],
  keks: readonly WrappedKekRow[],
): Promise<(string | null)[]> {
  const byId = new Map(keks.map((k) => [k.id, k]));
  const kek = (id: string) =>
    cachedKek(id, async () => {
      const wrapped = byId.get(id);
      if (!wrapped || wrapped.destroyed) throw new IntegrityError(`KEK ${id} is not available`);
      return unwrapKek(await loadMasterKeyring(masterKey), wrapped);
    });
  try {
    return await Promise.all(
      rows.map(async (row) => {
        if (row.revoked || row.destroyed || !row.ciphertext || !row.iv || !row.wrappedDek)
          return null;
        return decryptValue(
          await kek(row.kekId),
          { ...ids, secretId: row.secretId, key: row.key, version: row.version },
          { ciphertext: row.ciphertext, iv: row.iv, wrappedDek: row.wrappedDek },
        );
      }),
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

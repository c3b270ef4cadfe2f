// Finds and unwraps KEKs for a reader (by id, cached per isolate) or a writer
// (the environment's active KEK). The only bridge between key rows and crypto.
import type { Db } from "../db/client.js";
import { activeKek, findKey, type KeyRow } from "../db/keys.js";
import { IntegrityError } from "../crypto/aead.js";
import { unwrapKek } from "../crypto/envelope.js";
import { cachedKek } from "../crypto/kek-cache.js";
import { loadMasterKeyring } from "../key-providers/index.js";

async function unwrapRow(masterKeySource: string, row: KeyRow): Promise<CryptoKey> {
  if (row.state === "destroyed") throw new IntegrityError(`KEK ${row.id} is destroyed`);
  const ring = await loadMasterKeyring(masterKeySource);
  return unwrapKek(ring, {
    environmentId: row.scopeId,
    version: row.version,
    wrappedKey: row.wrappedKey,
    wrappedBy: row.wrappedBy,
  });
}

export function kekById(db: Db, masterKeySource: string, kekId: string): Promise<CryptoKey> {
  return cachedKek(kekId, async () => {
    const row = await findKey(db, kekId);
    if (!row) throw new IntegrityError(`KEK ${kekId} does not exist`);
    return unwrapRow(masterKeySource, row);
  });
}

export async function activeKekFor(
  db: Db,
  masterKeySource: string,
  environmentId: string,
): Promise<{ kekId: string; key: CryptoKey }> {
  const row = await activeKek(db, environmentId);
  if (!row) throw new IntegrityError(`environment ${environmentId} has no active KEK`);
  return { kekId: row.id, key: await cachedKek(row.id, () => unwrapRow(masterKeySource, row)) };
}

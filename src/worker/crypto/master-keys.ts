// The master keyring from QALA_MASTER_KEY: comma-separated `id:base64(32 bytes)`.
// The first key is active (it wraps new KEKs); the others can only unwrap, which
// is what lets the master key rotate without a flag day.
import { fromBase64, toBase64 } from "./encoding.js";
import { IntegrityError, importAesKey, open, seal } from "./aead.js";

export interface MasterKeyring {
  readonly activeId: string;
  readonly keys: ReadonlyMap<string, CryptoKey>;
}

const MASTER_KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class MasterKeyConfigError extends Error {
  override readonly name = "MasterKeyConfigError";
}

let cached: { source: string; ring: Promise<MasterKeyring> } | undefined;

/** Parses and imports the keyring once per isolate (per distinct configuration string). */
export function loadMasterKeyring(source: string | undefined): Promise<MasterKeyring> {
  if (!source) throw new MasterKeyConfigError("QALA_MASTER_KEY is not set");
  if (cached?.source !== source) {
    const ring = parseMasterKeyring(source);
    ring.catch(() => (cached = undefined));
    cached = { source, ring };
  }
  return cached.ring;
}

export async function parseMasterKeyring(source: string): Promise<MasterKeyring> {
  const keys = new Map<string, CryptoKey>();
  let activeId: string | undefined;
  for (const entry of source
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(":");
    const id = entry.slice(0, colon);
    if (colon < 1 || !MASTER_KEY_ID.test(id)) {
      throw new MasterKeyConfigError("QALA_MASTER_KEY entries are `id:base64`");
    }
    if (keys.has(id)) throw new MasterKeyConfigError(`master key id ${id} appears twice`);
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = fromBase64(entry.slice(colon + 1));
    } catch {
      throw new MasterKeyConfigError(`master key ${id} is not base64`);
    }
    if (raw.length !== 32) throw new MasterKeyConfigError(`master key ${id} is not 32 bytes`);
    keys.set(id, await importAesKey(raw));
    activeId ??= id;
  }
  if (!activeId) throw new MasterKeyConfigError("QALA_MASTER_KEY holds no key");
  return { activeId, keys };
}

/**
 * Re-wraps a key sealed by any configured master key under the active one,
 * with the same AAD. The raw key exists only inside this call.
 */
export async function rewrapUnderActive(
  ring: MasterKeyring,
  wrapped: { wrappedKey: string; wrappedBy: string },
  aad: string,
): Promise<{ wrappedKey: string; wrappedBy: string }> {
  const from = ring.keys.get(wrapped.wrappedBy);
  if (!from) throw new IntegrityError(`master key ${wrapped.wrappedBy} is not configured`);
  const raw = await open(from, fromBase64(wrapped.wrappedKey), aad);
  try {
    const sealed = await seal(ring.keys.get(ring.activeId)!, raw, aad);
    return { wrappedKey: toBase64(sealed), wrappedBy: ring.activeId };
  } finally {
    raw.fill(0);
  }
}

// The master keyring: what a key provider offers (wrap and unwrap key
// material with an AAD; it never sees a secret value), and the local
// provider, QALA_MASTER_KEY = comma-separated `id:base64(32 bytes)`: the first
// is active (it wraps), the others only unwrap, which is what lets the master
// key rotate without a flag day. The remote provider and the choice between
// them live in ../key-providers/.
import { fromBase64, toBase64 } from "./encoding.js";
import { IntegrityError, importAesKey, open, seal } from "./aead.js";

export interface Wrapped {
  wrappedKey: string;
  /** The master key that wrapped it: a local id, or `transit:<key name>`. */
  wrappedBy: string;
}

export interface MasterKeyring {
  readonly activeId: string;
  wrap(raw: Uint8Array<ArrayBuffer>, aad: string): Promise<Wrapped>;
  unwrap(wrapped: Wrapped, aad: string): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * The active key has versions of its own (a KMS key rotated in the KMS):
   * wrapping again what it already wraps moves that to its newest version.
   */
  readonly versioned?: boolean;
}

const MASTER_KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class MasterKeyConfigError extends Error {
  override readonly name = "MasterKeyConfigError";
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
  const active = activeId;
  return {
    activeId: active,
    async wrap(raw, aad) {
      const sealed = await seal(keys.get(active)!, raw, aad);
      return { wrappedKey: toBase64(sealed), wrappedBy: active };
    },
    async unwrap(wrapped, aad) {
      const key = keys.get(wrapped.wrappedBy);
      if (!key) throw new IntegrityError(`master key ${wrapped.wrappedBy} is not configured`);
      let blob: Uint8Array<ArrayBuffer>;
      try {
        blob = fromBase64(wrapped.wrappedKey);
      } catch {
        throw new IntegrityError("a wrapped key is not base64");
      }
      return open(key, blob, aad);
    },
  };
}

/**
 * Re-wraps a key wrapped by any configured master key under the active one,
 * with the same AAD. The raw key exists only inside this call.
 */
export async function rewrapUnderActive(
  ring: MasterKeyring,
  wrapped: Wrapped,
  aad: string,
): Promise<Wrapped> {
  const raw = await ring.unwrap(wrapped, aad);
  try {
    return await ring.wrap(raw, aad);
  } finally {
    raw.fill(0);
  }
}

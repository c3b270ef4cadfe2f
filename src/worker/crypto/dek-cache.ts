// Per-isolate cache of what opening a stored value takes, short of the value:
// the unwrapped DEK as a non-extractable CryptoKey, the AAD's bytes and the
// decoded IV and ciphertext. It is keyed by the exact wrapped DEK and its AAD,
// and the IV and ciphertext are compared with the row's on every use, so a
// tampered or moved row misses the cache and fails as it would without it.
// Holding a DEK exposes no more than holding the KEK that unwraps it, which
// the KEK cache already does; values themselves are never cached.
import { IntegrityError } from "./aead.js";
import { fromBase64, utf8 } from "./encoding.js";
import type { SealedValue } from "./envelope.js";

const MAX_ENTRIES = 20_000;
/** The decoded bytes kept in all: values go up to 64 KiB, and an isolate has 128 MB. */
export const MAX_CACHED_BYTES = 8 * 1024 * 1024;
const TTL_MS = 5 * 60 * 1000;

/** A stored value ready to open: the DEK (once unwrapped) and the decoded bytes. */
export interface PreparedValue {
  dek: Promise<CryptoKey>;
  aad: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  ciphertext: Uint8Array<ArrayBuffer>;
}

interface Entry extends Readonly<PreparedValue> {
  ivText: string;
  ciphertextText: string;
  expiresAt: number;
}

const entries = new Map<string, Entry>();
let cachedBytes = 0;

const sizeOf = (e: Entry) => e.aad.length + e.iv.length + e.ciphertext.length;

/** How many decoded bytes the cache holds (for tests of its bound). */
export const decodedBytesCached = () => cachedBytes;

function forget(id: string, entry: Entry) {
  if (entries.get(id) !== entry) return;
  entries.delete(id);
  cachedBytes -= sizeOf(entry);
}

/** Keeps `entry` as the newest, dropping the oldest past either bound. */
function remember(id: string, entry: Entry) {
  const replaced = entries.get(id);
  if (replaced) forget(id, replaced);
  entries.set(id, entry);
  cachedBytes += sizeOf(entry);
  while (entries.size > MAX_ENTRIES || cachedBytes > MAX_CACHED_BYTES) {
    const [oldest, old] = entries.entries().next().value!;
    forget(oldest, old);
  }
}

export function decodeStored(text: string): Uint8Array<ArrayBuffer> {
  try {
    return fromBase64(text);
  } catch {
    throw new IntegrityError("stored ciphertext is not base64");
  }
}

/**
 * The prepared form of `stored` under `aad`; `unwrap` is called (with the
 * AAD's bytes) only when the DEK is not cached. Throws IntegrityError when the
 * row's base64 does not decode.
 */
export function preparedValue(
  aad: string,
  stored: SealedValue,
  unwrap: (aad: Uint8Array<ArrayBuffer>) => Promise<CryptoKey>,
  now: number = Date.now(),
): PreparedValue {
  const id = `${aad}|${stored.wrappedDek}`;
  const hit = entries.get(id);
  const fresh = hit && hit.expiresAt > now ? hit : undefined;
  if (fresh?.ivText === stored.iv && fresh.ciphertextText === stored.ciphertext) return fresh;
  // Entries never change once made (callers hold them across awaits): a row
  // with other bytes under the same DEK gets an entry of its own.
  const iv = decodeStored(stored.iv);
  const ciphertext = decodeStored(stored.ciphertext);
  const aadBytes = fresh?.aad ?? utf8(aad);
  const entry: Entry = {
    dek: fresh?.dek ?? unwrap(aadBytes),
    aad: aadBytes,
    iv,
    ciphertext,
    ivText: stored.iv,
    ciphertextText: stored.ciphertext,
    expiresAt: fresh?.expiresAt ?? now + TTL_MS,
  };
  entry.dek.catch(() => forget(id, entry));
  remember(id, entry);
  return entry;
}

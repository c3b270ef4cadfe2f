// Per-isolate cache of unwrapped KEKs as non-extractable CryptoKeys: bounded and
// short-lived, so a destroyed or rotated KEK drops out quickly. Never values.
const MAX_ENTRIES = 256;
const TTL_MS = 5 * 60 * 1000;

interface Entry {
  key: Promise<CryptoKey>;
  expiresAt: number;
}

const entries = new Map<string, Entry>();

/** Returns the cached KEK for `kekId` or loads it once, even for concurrent callers. */
export function cachedKek(
  kekId: string,
  load: () => Promise<CryptoKey>,
  now: number = Date.now(),
): Promise<CryptoKey> {
  const hit = entries.get(kekId);
  if (hit && hit.expiresAt > now) return hit.key;
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  const key = load();
  key.catch(() => entries.delete(kekId));
  entries.set(kekId, { key, expiresAt: now + TTL_MS });
  return key;
}

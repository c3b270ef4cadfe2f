// Per-isolate cache of unwrapped DEKs as non-extractable CryptoKeys, keyed by
// the exact wrapped DEK and its AAD: a tampered or moved row misses the cache
// and fails as it would without it. Holding a DEK exposes no more than holding
// the KEK that unwraps it, which the KEK cache already does; values themselves
// are never cached.
const MAX_ENTRIES = 20_000;
const TTL_MS = 5 * 60 * 1000;

const entries = new Map<string, { key: Promise<CryptoKey>; expiresAt: number }>();

export function cachedDek(
  aad: string,
  wrappedDek: string,
  unwrap: () => Promise<CryptoKey>,
  now: number = Date.now(),
): Promise<CryptoKey> {
  const id = `${aad}|${wrappedDek}`;
  const hit = entries.get(id);
  if (hit && hit.expiresAt > now) return hit.key;
  if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
  const key = unwrap();
  key.catch(() => entries.delete(id));
  entries.set(id, { key, expiresAt: now + TTL_MS });
  return key;
}

// The SDK's cache of whole environments: fresh for `ttlMs`, then revalidated
// with If-None-Match (a 304 keeps the entry); when the server cannot be reached
// or answers 5xx, a cached environment up to `maxStaleMs` old is served instead
// (stale-if-error); concurrent callers share one request in flight.
export interface CachedEnvironment {
  secrets: Record<string, string>;
  etag: string;
  fetchedAt: number;
  /** Keys the server left out (revoked current versions). */
  skipped: string[];
}

export interface CacheOptions {
  ttlMs: number;
  maxStaleMs: number;
}

export type Revalidate = (etag: string | null) => Promise<CachedEnvironment | "not-modified">;

export class EnvironmentCache {
  readonly #entries = new Map<string, CachedEnvironment>();
  readonly #inFlight = new Map<string, Promise<CachedEnvironment>>();
  readonly #options: CacheOptions;
  readonly #now: () => number;

  constructor(options: CacheOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  get(key: string, fetchFresh: Revalidate, canServeStale: (error: unknown) => boolean) {
    const entry = this.#entries.get(key);
    if (entry && this.#now() - entry.fetchedAt < this.#options.ttlMs) return Promise.resolve(entry);
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = (async () => {
        try {
          const fresh = await fetchFresh(entry?.etag ?? null);
          const next = fresh === "not-modified" ? { ...entry!, fetchedAt: this.#now() } : fresh;
          this.#entries.set(key, next);
          return next;
        } catch (error) {
          if (
            entry &&
            canServeStale(error) &&
            this.#now() - entry.fetchedAt <= this.#options.maxStaleMs
          ) {
            return entry;
          }
          throw error;
        } finally {
          this.#inFlight.delete(key);
        }
      })();
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  invalidate(key: string): void {
    this.#entries.delete(key);
  }
}

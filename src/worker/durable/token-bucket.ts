// Token buckets per principal: `rate` tokens a second up to `burst`. In memory:
// a coordinator that restarts starts its buckets full, which errs on the side
// of availability for at most one burst.
export interface BucketConfig {
  requests_per_second: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_BUCKETS = 10_000;

export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();

  /** Takes `cost` from `key`'s bucket; returns 0 when allowed, else the seconds to wait. */
  take(key: string, cost: number, config: BucketConfig, now: number): number {
    const bucket = this.#buckets.get(key) ?? { tokens: config.burst, at: now };
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(config.burst, bucket.tokens + elapsed * config.requests_per_second);
    bucket.at = now;
    if (this.#buckets.size >= MAX_BUCKETS && !this.#buckets.has(key)) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.ceil((cost - bucket.tokens) / config.requests_per_second);
  }
}

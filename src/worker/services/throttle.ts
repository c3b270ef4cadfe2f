// Budgets for failed authentication, per client address and per account.
import type { Env } from "../env.js";
import { AppError } from "../errors.js";

const throttle = (env: Env, key: string) =>
  env.AUTH_THROTTLE.get(env.AUTH_THROTTLE.idFromName(key));

export const throttleKeys = (address: string | null, account?: string) => [
  address ? `ip:${address}` : "ip:unknown",
  ...(account ? [`account:${account}`] : []),
];

/** 429 when any key is locked out; called before any hashing. */
export async function assertNotThrottled(env: Env, keys: string[]): Promise<void> {
  const waits = await Promise.all(keys.map((k) => throttle(env, k).check()));
  const wait = Math.max(0, ...waits);
  if (wait > 0) {
    throw new AppError("rate_limited", "too many failed attempts; try again later", {
      details: { retry_after: wait },
    });
  }
}

export async function recordFailure(env: Env, keys: string[]): Promise<void> {
  await Promise.all(keys.map((k) => throttle(env, k).fail()));
}

export async function recordSuccess(env: Env, keys: string[]): Promise<void> {
  await Promise.all(keys.map((k) => throttle(env, k).succeed()));
}

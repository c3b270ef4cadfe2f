// Rotation policies: a secret rotates every `interval_days`, to a generated
// value or to one its webhook returns. The webhook is POSTed a JSON body
// signed like `Qala-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key, t + "." + body)>`
// with the project's webhook key, answers `{"value": "..."}`, and is retried
// with backoff; its failures are audited by the caller and never carry a value.
import { RotationPolicySchema, ValueSchema, type RotationPolicy } from "../../contract/index.js";
import { toHex, utf8 } from "../crypto/encoding.js";
import type { Db } from "../db/client.js";
import { AppError } from "../errors.js";
import { getInstanceSecret } from "./server-keys.js";

const DAY_MS = 86_400_000;

export type StoredRotation = RotationPolicy & { last_rotated_at: string };

export function parseRotation(text: string | null): StoredRotation | null {
  if (!text) return null;
  const stored = JSON.parse(text) as StoredRotation;
  return {
    ...RotationPolicySchema.parse(policyOf(stored)),
    last_rotated_at: stored.last_rotated_at,
  };
}

const policyOf = (r: StoredRotation): RotationPolicy =>
  "webhook" in r
    ? { interval_days: r.interval_days, webhook: r.webhook }
    : { interval_days: r.interval_days, generate: r.generate };

export const storeRotation = (policy: RotationPolicy, at: string): string =>
  JSON.stringify({ ...policy, last_rotated_at: at } satisfies StoredRotation);

export const nextRotationAt = (r: StoredRotation) =>
  Date.parse(r.last_rotated_at) + r.interval_days * DAY_MS;

export const isDue = (r: StoredRotation, now: number) => nextRotationAt(r) <= now;

export const rotationView = (r: StoredRotation) => ({
  ...policyOf(r),
  last_rotated_at: r.last_rotated_at,
  next_rotation_at: new Date(nextRotationAt(r)).toISOString(),
});

async function hmacKey(raw: Uint8Array<ArrayBuffer>) {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The project's webhook key: HMAC of the project id under an instance secret (hex). */
export async function webhookSecret(
  deps: { db: Db; masterKey: string },
  projectId: string,
): Promise<string> {
  const root = await hmacKey(await getInstanceSecret(deps.db, deps.masterKey, "rotation-webhook"));
  const derived = await crypto.subtle.sign("HMAC", root, utf8(`webhook:${projectId}`));
  return toHex(new Uint8Array(derived));
}

export async function signWebhook(secret: string, timestamp: number, body: string) {
  const key = await hmacKey(utf8(secret));
  const mac = await crypto.subtle.sign("HMAC", key, utf8(`${timestamp}.${body}`));
  return `t=${timestamp},v1=${toHex(new Uint8Array(mac))}`;
}

export interface WebhookCall {
  url: string;
  secret: string;
  payload: {
    project_id: string;
    environment: string;
    key: string;
    current_version: number;
  };
  now: () => number;
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asks the webhook for the new value: up to `attempts` tries, waiting
 * backoffMs, 2×, 4× between them. Throws upstream_failed naming what went
 * wrong (a status, a timeout, a malformed answer) — never a value.
 */
export async function fetchRotatedValue(call: WebhookCall): Promise<string> {
  const attempts = call.attempts ?? 3;
  const backoff = call.backoffMs ?? 500;
  let reason = "not called";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(backoff * 2 ** (attempt - 2));
    const body = JSON.stringify({
      ...call.payload,
      requested_at: new Date(call.now()).toISOString(),
    });
    try {
      const res = await fetch(call.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Qala-Signature": await signWebhook(call.secret, Math.floor(call.now() / 1000), body),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(call.timeoutMs ?? 10_000),
      });
      if (!res.ok) {
        reason = `the webhook answered ${res.status}`;
        await res.body?.cancel();
        // A 4xx other than 408/429 will not get better by retrying.
        if (res.status < 500 && res.status !== 408 && res.status !== 429) break;
        continue;
      }
      const parsed = (await res.json().catch(() => null)) as { value?: unknown } | null;
      const answer = ValueSchema.safeParse(parsed?.value);
      if (answer.success) return answer.data;
      reason = 'the webhook\'s answer is not {"value": "<string>"}';
      break;
    } catch (error) {
      reason =
        error instanceof Error && error.name === "TimeoutError"
          ? "the webhook timed out"
          : "the webhook could not be reached";
    }
  }
  throw new AppError("upstream_failed", `rotation failed: ${reason}`, {
    details: { reason, attempts },
  });
}

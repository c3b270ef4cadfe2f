// The audit event and its hash chain (API.md "Audit"):
//   hash = hex(SHA-256(prev_hash_hex ‖ JCS(event with seq))), from 64 zeros.
// Pure: no storage. Events never carry a secret value.
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

export const GENESIS = "0".repeat(64);

export interface AuditActor {
  kind: "user" | "token" | "oidc" | "anonymous" | "system";
  id: string | null;
}

/** An event as the caller describes it; the chain adds seq and ts. */
export interface AuditInput {
  actor: AuditActor;
  action: string;
  target: string | null;
  result: "ok" | "denied" | "error" | "aborted";
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditEvent extends AuditInput {
  seq: number;
  ts: string;
  details: Record<string, unknown> | null;
}

export interface ChainedEvent extends AuditEvent {
  prev_hash: string;
  hash: string;
}

export function toEvent(input: AuditInput, seq: number, ts: string): AuditEvent {
  return {
    seq,
    ts,
    actor: { kind: input.actor.kind, id: input.actor.id },
    action: input.action,
    target: input.target,
    result: input.result,
    ip: input.ip,
    user_agent: input.user_agent,
    request_id: input.request_id,
    details: input.details ?? null,
  };
}

const str = (value: string | null) => JSON.stringify(value);

/**
 * The exact bytes that are hashed: the event's fields, canonicalized by RFC
 * 8785 (JCS). The event's shape is fixed, so its keys are written in the order
 * JCS sorts them, and strings and numbers as JSON.stringify writes them (which
 * is what JCS specifies); only `details`, free-form, goes through the general
 * canonicalizer. A property test holds this equal to the general one.
 */
export function canonicalEvent(event: AuditEvent): string {
  const details = event.details === null ? "null" : canonicalize(event.details)!;
  return (
    `{"action":${str(event.action)},"actor":{"id":${str(event.actor.id)},"kind":${str(event.actor.kind)}},` +
    `"details":${details},"ip":${str(event.ip)},"request_id":${str(event.request_id)},` +
    `"result":${str(event.result)},"seq":${JSON.stringify(event.seq)},"target":${str(event.target)},` +
    `"ts":${str(event.ts)},"user_agent":${str(event.user_agent)}}`
  );
}

/**
 * Synchronous SHA-256 (the runtime's native node:crypto): the coordinator
 * hashes an event in the same turn that stores it, so a read's event costs one
 * storage write.
 */
export function chainHash(prevHash: string, event: AuditEvent): string {
  return linkHash(prevHash, canonicalEvent(event));
}

/** The chain link over an event already in canonical form (hashed as UTF-8). */
export function linkHash(prevHash: string, canonical: string): string {
  return createHash("sha256").update(prevHash).update(canonical).digest("hex");
}

/**
 * Recomputes a chain from `start` (genesis, or a pruned chain's checkpoint).
 * Returns the first seq that is missing, out of order, or whose hash does not
 * match; null when every link holds.
 */
export function firstBrokenLink(
  events: readonly ChainedEvent[],
  start: { seq: number; hash: string } = { seq: 0, hash: GENESIS },
): number | null {
  let prev = start.hash;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const expectedSeq = start.seq + i + 1;
    if (event.seq !== expectedSeq) return expectedSeq;
    if (event.prev_hash !== prev || chainHash(prev, event) !== event.hash) return event.seq;
    prev = event.hash;
  }
  return null;
}

/** What the Worker tells a coordinator about a request, for its audit event. */
export type AuditContext = Pick<
  AuditInput,
  "actor" | "ip" | "user_agent" | "request_id" | "target"
>;

/** The context of what the system does on its own (a cron job, a key job): no request. */
export const systemContext = (id: string): AuditContext => ({
  actor: { kind: "system", id },
  ip: null,
  user_agent: null,
  request_id: null,
  target: null,
});

// Queries on the audit_events table (one chain per project, and `instance`).
import { and, asc, desc, eq, gt, gte, lt, lte, max, sql } from "drizzle-orm";
import type { ChainedEvent } from "../audit/event.js";
import { chunk, type Db } from "./client.js";
import { auditCheckpoints, auditEvents } from "./schema.js";

type Row = typeof auditEvents.$inferSelect;

export const toRow = (chain: string, e: ChainedEvent): Row => ({
  chain,
  seq: e.seq,
  ts: e.ts,
  actorKind: e.actor.kind,
  actorId: e.actor.id,
  action: e.action,
  target: e.target,
  result: e.result,
  ip: e.ip,
  userAgent: e.user_agent,
  requestId: e.request_id,
  details: e.details ? JSON.stringify(e.details) : null,
  prevHash: e.prev_hash,
  hash: e.hash,
});

export const fromRow = (r: Row): ChainedEvent => ({
  seq: r.seq,
  ts: r.ts,
  actor: { kind: r.actorKind as ChainedEvent["actor"]["kind"], id: r.actorId },
  action: r.action,
  target: r.target,
  result: r.result as ChainedEvent["result"],
  ip: r.ip,
  user_agent: r.userAgent,
  request_id: r.requestId,
  details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
  prev_hash: r.prevHash,
  hash: r.hash,
});

/** Events per statement: each statement binds one JSON array (D1 caps a bound string at 2 MB). */
const EVENTS_PER_STATEMENT = 200;

/**
 * Idempotent by (chain, seq): a flush that ran twice writes each event once.
 * Events travel as one bound JSON array per statement, unpacked by json_each,
 * so a thousand events are five statements rather than a hundred and fifty.
 */
export const insertAuditEvents = (db: Db, chain: string, events: ChainedEvent[]) =>
  chunk(events, EVENTS_PER_STATEMENT).map((part) => {
    const rows = JSON.stringify(
      part.map((e) => [
        e.seq,
        e.ts,
        e.actor.kind,
        e.actor.id,
        e.action,
        e.target,
        e.result,
        e.ip,
        e.user_agent,
        e.request_id,
        e.details ? JSON.stringify(e.details) : null,
        e.prev_hash,
        e.hash,
      ]),
    );
    // The columns in the table's order, as drizzle's insert-select requires.
    return db
      .insert(auditEvents)
      .select(
        sql`SELECT ${chain}, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
          value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10,
          value ->> 11, value ->> 12
        FROM json_each(${rows}) WHERE true`,
      )
      .onConflictDoNothing();
  });

export const findAuditEvent = (db: Db, chain: string, seq: number) =>
  db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.chain, chain), eq(auditEvents.seq, seq)))
    .get();

/** A page of the chain in seq order, after `afterSeq`. */
export const chainPage = (db: Db, chain: string, afterSeq: number, limit: number) =>
  db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.chain, chain), gt(auditEvents.seq, afterSeq)))
    .orderBy(asc(auditEvents.seq))
    .limit(limit)
    .all();

export interface AuditFilter {
  action?: string;
  actor?: string;
  since?: string;
  until?: string;
  beforeSeq?: number;
}

/** Newest first, filtered. */
export const searchAudit = (db: Db, chain: string, f: AuditFilter, limit: number) =>
  db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.chain, chain),
        f.action ? eq(auditEvents.action, f.action) : undefined,
        f.actor ? eq(auditEvents.actorId, f.actor) : undefined,
        f.since ? gte(auditEvents.ts, f.since) : undefined,
        f.until ? lte(auditEvents.ts, f.until) : undefined,
        f.beforeSeq !== undefined ? lt(auditEvents.seq, f.beforeSeq) : undefined,
      ),
    )
    .orderBy(desc(auditEvents.seq))
    .limit(limit)
    .all();

export type CheckpointRow = typeof auditCheckpoints.$inferSelect;

/** The newest checkpoint of a chain (retention prunes from the front, so it covers the most). */
export const latestCheckpoint = (db: Db, chain: string) =>
  db
    .select()
    .from(auditCheckpoints)
    .where(eq(auditCheckpoints.chain, chain))
    .orderBy(desc(auditCheckpoints.seq))
    .limit(1)
    .get();

/** The last event older than `before` (an ISO time), up to `throughSeq`. */
export const lastEventBefore = (db: Db, chain: string, before: string, throughSeq: number) =>
  db
    .select({ seq: max(auditEvents.seq) })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.chain, chain),
        lt(auditEvents.ts, before),
        lte(auditEvents.seq, throughSeq),
      ),
    )
    .get();

/** One batch: the checkpoint, and the deletion of every event it covers. */
export const pruneStatements = (db: Db, checkpoint: CheckpointRow) =>
  [
    db.insert(auditCheckpoints).values(checkpoint),
    db
      .delete(auditEvents)
      .where(and(eq(auditEvents.chain, checkpoint.chain), lte(auditEvents.seq, checkpoint.seq))),
  ] as const;

// One audit chain, kept by the Durable Object that owns it (a project's
// coordinator, or the instance coordinator). An event gets its seq and its
// hash at once and is durable in the object's SQLite storage before the
// caller answers (fail-closed); an alarm flushes events to D1 idempotently.
// A write's event lands in the write's own D1 batch; while that batch is in
// flight, later events wait unhashed (their hash depends on it), and if it
// fails, an `aborted` event takes its seq, so the chain has no holes.
import type { BatchItem } from "drizzle-orm/batch";
import { runBatch, type Db } from "../db/client.js";
import {
  chainPage,
  findAuditEvent,
  fromRow,
  insertAuditEvents,
  lastEventBefore,
  latestCheckpoint,
  pruneStatements,
  searchAudit,
  type AuditFilter,
} from "../db/audit.js";
import type { CheckpointSigner } from "../services/audit-checkpoints.js";
import {
  GENESIS,
  canonicalEvent,
  chainHash,
  linkHash,
  firstBrokenLink,
  toEvent,
  type AuditEvent,
  type AuditInput,
  type ChainedEvent,
} from "./event.js";

export class AuditUnavailable extends Error {
  override readonly name = "AuditUnavailable";
}

interface Head {
  seq: number;
  hash: string;
}

interface LocalRow extends Record<string, SqlStorageValue> {
  seq: number;
  event: string;
  prev_hash: string | null;
  hash: string | null;
}

export interface ReservedWrite {
  event: AuditEvent;
  prevHash: string;
  hash: string;
  statements: BatchItem<"sqlite">[];
}

const FLUSH_BATCH = 1000;
/**
 * A group commit stays open, one timer tick at a time, while events keep
 * joining it (reads that arrived together are still being dispatched), and
 * commits after a tick that brought none, or after this many ticks. Every
 * commit is one storage sync, the dearest part of a read's event.
 */
const GROUP_MAX_TICKS = 8;
const VERIFY_PAGE = 1000;

/**
 * When the next flush should run: at once after a full batch (more are
 * waiting, so the flush keeps up with any rate of events), else after `delayMs`.
 */
export const nextFlushIn = (flushed: number, delayMs: number) =>
  flushed >= FLUSH_BATCH ? 0 : delayMs;

const GENESIS_HEAD: Head = { seq: 0, hash: GENESIS };

export type VerifyResult =
  | {
      ok: true;
      events: number;
      head: string;
      checkpoint: { seq: number; hash: string; pruned_at: string } | null;
    }
  | { ok: false; first_bad_seq: number; reason: string };

export class AuditChain {
  readonly #sql: SqlStorage;
  readonly #db: Db;
  readonly #chain: string;
  readonly #now: () => number;
  /** Test-only fault injection: when it returns true, appends fail. */
  readonly #failing: () => boolean;
  readonly #transaction: (body: () => void) => void;
  /** The last hashed event (stored locally, in D1, or both). */
  #head: Head = { seq: 0, hash: GENESIS };
  #nextSeq = 1;
  /** The seq of a write whose batch is in flight; events after it wait for its outcome. */
  #inFlight: number | null = null;
  readonly #checkpoints: CheckpointSigner;

  constructor(options: {
    sql: SqlStorage;
    db: Db;
    chain: string;
    now: () => number;
    failing?: () => boolean;
    transaction?: (body: () => void) => void;
    checkpoints: CheckpointSigner;
  }) {
    this.#checkpoints = options.checkpoints;
    this.#transaction = options.transaction ?? ((body) => body());
    this.#sql = options.sql;
    this.#db = options.db;
    this.#chain = options.chain;
    this.#now = options.now;
    this.#failing = options.failing ?? (() => false);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS audit_local (
      seq INTEGER PRIMARY KEY, event TEXT NOT NULL, prev_hash TEXT, hash TEXT)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS audit_head (
      id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)`);
    const stored = this.#sql
      .exec<{ seq: number; hash: string }>("SELECT seq, hash FROM audit_head")
      .toArray()[0];
    if (stored) this.#head = stored;
    const lastHashed = this.#sql
      .exec<LocalRow>("SELECT * FROM audit_local WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1")
      .toArray()[0];
    if (lastHashed && lastHashed.seq > this.#head.seq) {
      this.#head = { seq: lastHashed.seq, hash: lastHashed.hash! };
    }
    const last = this.#sql
      .exec<{ m: number | null }>("SELECT MAX(seq) AS m FROM audit_local")
      .one().m;
    this.#nextSeq = Math.max(this.#head.seq, last ?? 0) + 1;
  }

  get head(): Head {
    return { ...this.#head };
  }

  #ts = () => new Date(this.#now()).toISOString();

  /**
   * After a restart: an event missing after the head was a write in flight
   * or an event lost with its group's commit. A write whose D1 batch landed is
   * adopted (even as the last event: its seq must not be taken again); each
   * other hole gets an `aborted` event, so the chain goes on.
   */
  async repair(): Promise<void> {
    for (;;) {
      this.#chainWaiting();
      const missing = this.#head.seq + 1;
      const landed = await findAuditEvent(this.#db, this.#chain, missing);
      if (landed) {
        this.#persistHead({ seq: landed.seq, hash: landed.hash });
        this.#nextSeq = Math.max(this.#nextSeq, landed.seq + 1);
        continue;
      }
      if (missing >= this.#nextSeq) return;
      const event = toEvent(
        {
          actor: { kind: "system", id: null },
          action: "write",
          target: null,
          result: "aborted",
          ip: null,
          user_agent: null,
          request_id: null,
          details: { reason: "the coordinator restarted while this event was not stored" },
        },
        missing,
        this.#ts(),
      );
      this.#store(event);
    }
  }

  /** Stores an event, hashed now unless it waits behind a write in flight. */
  #store(event: AuditEvent): void {
    // The canonical form is JSON too: stored as it is hashed, serialized once.
    const text = canonicalEvent(event);
    if (event.seq === this.#head.seq + 1) {
      const hash = linkHash(this.#head.hash, text);
      this.#sql.exec(
        "INSERT INTO audit_local (seq, event, prev_hash, hash) VALUES (?, ?, ?, ?)",
        event.seq,
        text,
        this.#head.hash,
        hash,
      );
      this.#head = { seq: event.seq, hash };
    } else {
      this.#sql.exec("INSERT INTO audit_local (seq, event) VALUES (?, ?)", event.seq, text);
    }
  }

  /** Appends an event durably, in this turn (before the caller answers). Throws when it cannot. */
  append(input: AuditInput): number {
    if (this.#failing()) throw new AuditUnavailable("audit append failed");
    const seq = this.#nextSeq++;
    this.#store(toEvent(input, seq, this.#ts()));
    return seq;
  }

  #group: { events: AuditEvent[]; done: Promise<void> } | null = null;

  /**
   * Appends an event with group commit: events that arrive together are
   * stored in one storage transaction a moment later, and each caller answers
   * only once its event is stored. The seq is taken at once, so order holds.
   */
  appendGrouped(input: AuditInput): Promise<number> {
    if (this.#failing()) return Promise.reject(new AuditUnavailable("audit append failed"));
    const seq = this.#nextSeq++;
    const event = toEvent(input, seq, this.#ts());
    this.#group ??= this.#openGroup();
    this.#group.events.push(event);
    return this.#group.done.then(() => seq);
  }

  /** A group, and its commit once events stop joining it (or after GROUP_MAX_TICKS ticks). */
  #openGroup(): { events: AuditEvent[]; done: Promise<void> } {
    const events: AuditEvent[] = [];
    const done = new Promise<void>((resolve, reject) => {
      let seen = 0;
      let ticks = 0;
      const tick = () => {
        if (events.length > seen && ticks < GROUP_MAX_TICKS) {
          seen = events.length;
          ticks++;
          setTimeout(tick, 0);
          return;
        }
        this.#group = null;
        const head = this.#head;
        try {
          this.#transaction(() => {
            events.forEach((e) => this.#store(e));
            // An event appended while the group was open has a later seq and
            // was stored waiting for this group's hashes: chain it now.
            if (this.#inFlight === null && this.#nextSeq - 1 > this.#head.seq) {
              this.#chainWaiting();
            }
          });
          resolve();
        } catch (error) {
          // Nothing of the group was stored (the transaction rolled back): neither
          // is the head moved, and its seqs go back if none was taken after them.
          this.#head = head;
          if (this.#nextSeq - 1 === events.at(-1)!.seq) this.#nextSeq = events[0]!.seq;
          else this.#abortLost(events);
          reject(new AuditUnavailable("audit group commit failed", { cause: error }));
        }
      };
      setTimeout(tick, 0);
    });
    return { events, done };
  }

  /**
   * A later seq was taken while a failed group was open (a change's event):
   * the group's seqs get `aborted` events, so the chain has no hole. If the
   * storage refuses these too, `repair` fills the holes after a restart.
   */
  #abortLost(events: AuditEvent[]) {
    const head = this.#head;
    try {
      this.#transaction(() => {
        for (const e of events) {
          this.#store({ ...e, result: "aborted", details: { reason: "its group commit failed" } });
        }
        if (this.#inFlight === null) this.#chainWaiting();
      });
    } catch {
      this.#head = head;
    }
  }

  /** Reserves the next seq for a write and hashes its event, to land in the write's batch. */
  async reserveWrite(input: AuditInput): Promise<ReservedWrite> {
    if (this.#failing()) throw new AuditUnavailable("audit append failed");
    if (this.#inFlight !== null) throw new Error("one write at a time");
    // Events of a group commit that is still open come first (their seqs are lower).
    while (this.#group) await this.#group.done.catch(() => undefined);
    const seq = this.#nextSeq++;
    const event = toEvent(input, seq, this.#ts());
    // Writes run one at a time, so every earlier event is hashed: the head is final.
    const prevHash = this.#head.hash;
    const hash = chainHash(prevHash, event);
    this.#inFlight = seq;
    return {
      event,
      prevHash,
      hash,
      statements: insertAuditEvents(this.#db, this.#chain, [
        { ...event, prev_hash: prevHash, hash },
      ]),
    };
  }

  /** The write's batch landed with its event: move the head past it. */
  commitWrite(reserved: ReservedWrite): void {
    this.#inFlight = null;
    this.#persistHead({ seq: reserved.event.seq, hash: reserved.hash });
    this.#chainWaiting();
  }

  /** The write's batch failed: an `aborted` event takes its seq. */
  abortWrite(reserved: ReservedWrite, reason: string): void {
    this.#inFlight = null;
    this.#store({ ...reserved.event, result: "aborted", details: { reason } });
    this.#chainWaiting();
  }

  #localRow(seq: number): LocalRow | undefined {
    return this.#sql.exec<LocalRow>("SELECT * FROM audit_local WHERE seq = ?", seq).toArray()[0];
  }

  #persistHead(head: Head) {
    this.#head = head;
    this.#sql.exec(
      "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
      head.seq,
      head.hash,
    );
  }

  /** Hashes the events that waited behind a write, in seq order, up to the next gap. */
  #chainWaiting(): void {
    for (;;) {
      const row = this.#localRow(this.#head.seq + 1);
      if (!row) return;
      if (row.hash) {
        this.#head = { seq: row.seq, hash: row.hash };
        continue;
      }
      const event = JSON.parse(row.event) as AuditEvent;
      const hash = chainHash(this.#head.hash, event);
      this.#sql.exec(
        "UPDATE audit_local SET prev_hash = ?, hash = ? WHERE seq = ?",
        this.#head.hash,
        hash,
        row.seq,
      );
      this.#head = { seq: row.seq, hash };
    }
  }

  /** Hashed events not yet in D1, in seq order. */
  #unflushed(limit = Number.MAX_SAFE_INTEGER): ChainedEvent[] {
    return this.#sql
      .exec<LocalRow>(
        "SELECT * FROM audit_local WHERE hash IS NOT NULL ORDER BY seq LIMIT ?",
        limit,
      )
      .toArray()
      .map((r) => ({
        ...(JSON.parse(r.event) as AuditEvent),
        prev_hash: r.prev_hash!,
        hash: r.hash!,
      }));
  }

  /** True while events wait for the flush. */
  get pending(): boolean {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit_local").one().n > 0;
  }

  /** Copies hashed events to D1 (idempotent), then drops them locally, keeping the head. */
  async flush(): Promise<number> {
    const events = this.#unflushed(FLUSH_BATCH);
    if (events.length === 0) return 0;
    await runBatch(this.#db, insertAuditEvents(this.#db, this.#chain, events));
    const last = events.at(-1)!;
    if (last.seq >= this.#head.seq) this.#persistHead({ seq: last.seq, hash: last.hash });
    else this.#persistHead(this.#head);
    this.#sql.exec("DELETE FROM audit_local WHERE seq <= ? AND hash IS NOT NULL", last.seq);
    return events.length;
  }

  /**
   * Recomputes the chain from D1 and the unflushed events, and checks it ends
   * at the head. A pruned chain starts at its signed checkpoint instead of genesis.
   */
  async verify(): Promise<VerifyResult> {
    const checkpoint = await latestCheckpoint(this.#db, this.#chain);
    const start = checkpoint ? { seq: checkpoint.seq, hash: checkpoint.hash } : GENESIS_HEAD;
    if (checkpoint && !(await this.#checkpoints.holds(checkpoint))) {
      return { ok: false, first_bad_seq: checkpoint.seq, reason: "checkpoint signature invalid" };
    }
    const events: ChainedEvent[] = [];
    for (let after = start.seq; ;) {
      const page = await chainPage(this.#db, this.#chain, after, VERIFY_PAGE);
      events.push(...page.map(fromRow));
      if (page.length < VERIFY_PAGE) break;
      after = page.at(-1)!.seq;
    }
    const stored = new Set(events.map((e) => e.seq));
    events.push(...this.#unflushed().filter((e) => !stored.has(e.seq)));
    events.sort((a, b) => a.seq - b.seq);
    const broken = firstBrokenLink(events, start);
    if (broken !== null) return { ok: false, first_bad_seq: broken, reason: "broken link" };
    const last = events.at(-1) ?? start;
    // A cut tail: the stored chain stops before the head the coordinator knows.
    if (last.seq !== this.#head.seq || last.hash !== this.#head.hash) {
      return { ok: false, first_bad_seq: last.seq + 1, reason: "chain ends before the head" };
    }
    return {
      ok: true,
      events: events.length,
      head: this.#head.hash,
      checkpoint: checkpoint
        ? { seq: checkpoint.seq, hash: checkpoint.hash, pruned_at: checkpoint.prunedAt }
        : null,
    };
  }

  /**
   * Retention: deletes the events older than `before` (all flushed first) and
   * keeps a signed checkpoint of the last one deleted. Run behind the write
   * queue (no write in flight). Returns the checkpoint's seq and how many
   * events went, or null when nothing was old enough.
   */
  async prune(before: string): Promise<{ through: number; events: number } | null> {
    while ((await this.flush()) > 0);
    const flushedThrough = this.#head.seq;
    const found = await lastEventBefore(this.#db, this.#chain, before, flushedThrough);
    const through = found?.seq ?? null;
    const previous = await latestCheckpoint(this.#db, this.#chain);
    if (through === null || through <= (previous?.seq ?? 0)) return null;
    const last = await findAuditEvent(this.#db, this.#chain, through);
    if (!last) return null;
    const checkpoint = await this.#checkpoints.sign({
      chain: this.#chain,
      seq: through,
      hash: last.hash,
      prunedAt: this.#ts(),
    });
    await runBatch(this.#db, pruneStatements(this.#db, checkpoint));
    return { through, events: through - (previous?.seq ?? 0) };
  }

  /** Events newest first, filtered, D1 and unflushed together. */
  async list(filter: AuditFilter, limit: number): Promise<ChainedEvent[]> {
    const local = this.#unflushed()
      .filter(
        (e) =>
          (!filter.action || e.action === filter.action) &&
          (!filter.actor || e.actor.id === filter.actor) &&
          (!filter.since || e.ts >= filter.since) &&
          (!filter.until || e.ts <= filter.until) &&
          (filter.beforeSeq === undefined || e.seq < filter.beforeSeq),
      )
      .reverse();
    const stored = (await searchAudit(this.#db, this.#chain, filter, limit)).map(fromRow);
    const seen = new Set(local.map((e) => e.seq));
    return [...local, ...stored.filter((e) => !seen.has(e.seq))]
      .sort((a, b) => b.seq - a.seq)
      .slice(0, limit);
  }
}

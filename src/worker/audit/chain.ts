// One audit chain, kept by the Durable Object that owns it (a project's
// coordinator, or the instance coordinator). Events get their seq at once and
// are durable in the object's SQLite storage before the caller answers
// (fail-closed); hashes are chained in seq order, and an alarm flushes hashed
// events to D1 idempotently. A write's event lands in the write's own D1 batch;
// if that batch fails, an `aborted` event takes its seq, so the chain has no holes.
import type { BatchItem } from "drizzle-orm/batch";
import { runBatch, type Db } from "../db/client.js";
import {
  chainPage,
  findAuditEvent,
  fromRow,
  insertAuditEvents,
  searchAudit,
  type AuditFilter,
} from "../db/audit.js";
import {
  GENESIS,
  chainHash,
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

const FLUSH_BATCH = 500;
const VERIFY_PAGE = 1000;

export class AuditChain {
  readonly #sql: SqlStorage;
  readonly #db: Db;
  readonly #chain: string;
  readonly #now: () => number;
  /** Test-only fault injection: when it returns true, appends fail. */
  readonly #failing: () => boolean;
  #head: Head = { seq: 0, hash: GENESIS };
  #nextSeq = 1;
  #chaining: Promise<void> = Promise.resolve();

  constructor(options: {
    sql: SqlStorage;
    db: Db;
    chain: string;
    now: () => number;
    failing?: () => boolean;
  }) {
    this.#sql = options.sql;
    this.#db = options.db;
    this.#chain = options.chain;
    this.#now = options.now;
    this.#failing = options.failing ?? (() => false);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS audit_local (
      seq INTEGER PRIMARY KEY, event TEXT NOT NULL, prev_hash TEXT, hash TEXT)`);
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS audit_head (
      id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)`);
    const head = this.#sql
      .exec<{ seq: number; hash: string }>("SELECT seq, hash FROM audit_head")
      .toArray()[0];
    if (head) this.#head = { seq: head.seq, hash: head.hash };
    const last = this.#sql
      .exec<{ m: number | null }>("SELECT MAX(seq) AS m FROM audit_local")
      .one().m;
    this.#nextSeq = Math.max(this.#head.seq, last ?? 0) + 1;
  }

  get head(): Head {
    return { ...this.#head };
  }

  /**
   * After a restart: an event missing just after the head was a write in
   * flight. If its D1 batch landed, adopt that row; otherwise record `aborted`.
   */
  async repair(): Promise<void> {
    const pending = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit_local").one().n;
    const missing = this.#head.seq + 1;
    if (pending === 0 || this.#localRow(missing)) return this.#chainPending();
    const landed = await findAuditEvent(this.#db, this.#chain, missing);
    if (landed) {
      this.#setHead({ seq: landed.seq, hash: landed.hash });
    } else {
      const event = toEvent(
        {
          actor: { kind: "system", id: null },
          action: "write",
          target: null,
          result: "aborted",
          ip: null,
          user_agent: null,
          request_id: null,
          details: { reason: "the coordinator restarted while this write was in flight" },
        },
        missing,
        new Date(this.#now()).toISOString(),
      );
      this.#sql.exec(
        "INSERT INTO audit_local (seq, event) VALUES (?, ?)",
        missing,
        JSON.stringify(event),
      );
    }
    return this.#chainPending();
  }

  /** Appends an event durably (synchronously, before the caller answers). Throws when it cannot. */
  append(input: AuditInput): number {
    if (this.#failing()) throw new AuditUnavailable("audit append failed");
    const seq = this.#nextSeq++;
    const event = toEvent(input, seq, new Date(this.#now()).toISOString());
    this.#sql.exec(
      "INSERT INTO audit_local (seq, event) VALUES (?, ?)",
      seq,
      JSON.stringify(event),
    );
    void this.#chainPending();
    return seq;
  }

  /** Reserves the next seq for a write and hashes its event, to land in the write's batch. */
  async reserveWrite(input: AuditInput): Promise<ReservedWrite> {
    if (this.#failing()) throw new AuditUnavailable("audit append failed");
    await this.idle();
    // Nothing may be stuck now (writes are one at a time), so the head is final.
    const seq = this.#nextSeq++;
    const event = toEvent(input, seq, new Date(this.#now()).toISOString());
    const prevHash = this.#head.hash;
    const hash = await chainHash(prevHash, event);
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
    this.#setHead({ seq: reserved.event.seq, hash: reserved.hash });
    void this.#chainPending();
  }

  /** The write's batch failed: an `aborted` event takes its seq. */
  abortWrite(reserved: ReservedWrite, reason: string): void {
    const event: AuditEvent = { ...reserved.event, result: "aborted", details: { reason } };
    this.#sql.exec(
      "INSERT INTO audit_local (seq, event) VALUES (?, ?)",
      event.seq,
      JSON.stringify(event),
    );
    void this.#chainPending();
  }

  /**
   * Resolves once every event appended so far is hashed, including events
   * appended while waiting. (With a write in flight, events after it wait for
   * it; callers that hold the coordinator's write queue never see that case.)
   */
  async idle(): Promise<void> {
    while (this.#head.seq < this.#nextSeq - 1) {
      const before = this.#head.seq;
      await this.#chainPending();
      if (this.#head.seq === before) return; // a gap: a write is in flight
    }
  }

  #localRow(seq: number): LocalRow | undefined {
    return this.#sql.exec<LocalRow>("SELECT * FROM audit_local WHERE seq = ?", seq).toArray()[0];
  }

  #setHead(head: Head) {
    this.#head = head;
    this.#sql.exec(
      "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
      head.seq,
      head.hash,
    );
  }

  /** Hashes unhashed events in seq order, stopping at a gap (a write in flight). */
  #chainPending(): Promise<void> {
    this.#chaining = this.#chaining.then(async () => {
      for (;;) {
        const row = this.#localRow(this.#head.seq + 1);
        if (!row) return;
        if (row.hash) {
          this.#head = { seq: row.seq, hash: row.hash };
          continue;
        }
        const event = JSON.parse(row.event) as AuditEvent;
        const prev = this.#head.hash;
        const hash = await chainHash(prev, event);
        this.#sql.exec(
          "UPDATE audit_local SET prev_hash = ?, hash = ? WHERE seq = ?",
          prev,
          hash,
          row.seq,
        );
        this.#setHead({ seq: row.seq, hash });
      }
    });
    return this.#chaining;
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

  /** Copies hashed events to D1 (idempotent), then drops them locally. */
  async flush(): Promise<number> {
    await this.idle();
    const events = this.#unflushed(FLUSH_BATCH);
    if (events.length === 0) return 0;
    await runBatch(this.#db, insertAuditEvents(this.#db, this.#chain, events));
    this.#sql.exec(
      "DELETE FROM audit_local WHERE seq <= ? AND hash IS NOT NULL",
      events.at(-1)!.seq,
    );
    return events.length;
  }

  /** Recomputes the chain from D1 and the unflushed events, and checks it ends at the head. */
  async verify(): Promise<
    { ok: true; events: number; head: string } | { ok: false; first_bad_seq: number }
  > {
    await this.idle();
    const events: ChainedEvent[] = [];
    for (let after = 0; ;) {
      const page = await chainPage(this.#db, this.#chain, after, VERIFY_PAGE);
      events.push(...page.map(fromRow));
      if (page.length < VERIFY_PAGE) break;
      after = page.at(-1)!.seq;
    }
    const flushed = new Set(events.map((e) => e.seq));
    events.push(...this.#unflushed().filter((e) => !flushed.has(e.seq)));
    events.sort((a, b) => a.seq - b.seq);
    const broken = await firstBrokenLink(events);
    if (broken !== null) return { ok: false, first_bad_seq: broken };
    const last = events.at(-1);
    // A cut tail: the stored chain stops before the head the coordinator knows.
    if ((last?.seq ?? 0) !== this.#head.seq || (last?.hash ?? GENESIS) !== this.#head.hash) {
      return { ok: false, first_bad_seq: (last?.seq ?? 0) + 1 };
    }
    return { ok: true, events: events.length, head: this.#head.hash };
  }

  /** Events newest first, filtered, D1 and unflushed together. */
  async list(filter: AuditFilter, limit: number): Promise<ChainedEvent[]> {
    await this.idle();
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

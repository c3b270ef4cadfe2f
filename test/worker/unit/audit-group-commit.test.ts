// The audit chain's group commit, repair and flush, on real Durable Object
// storage: events that keep arriving tick after tick share one storage
// transaction, each caller answers only once its event is stored, a steady
// stream still commits, a failed commit or a restart leaves no hole in the
// chain, and a backlog larger than one flush batch is flushed at once. Storage
// failures are thrown inside the real transaction, which rolls back.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AuditChain, AuditUnavailable, nextFlushIn } from "../../../src/worker/audit/chain.js";
import type { AuditInput } from "../../../src/worker/audit/event.js";
import { openDb, runBatch } from "../../../src/worker/db/client.js";
import { checkpointSigner } from "../../../src/worker/services/audit-checkpoints.js";

const input = (n: number): AuditInput => ({
  actor: { kind: "token", id: "tok_test" },
  action: "secrets.read",
  target: `production/KEY_${n}`,
  result: "ok",
  ip: "192.0.2.1",
  user_agent: null,
  request_id: `req_${n}`,
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Runs `body` with a fresh chain in a fresh object's storage, counting its
 * transactions; `restart` makes a new chain on the same storage, as a
 * restarted object would.
 */
async function withChain(
  name: string,
  body: (
    chain: AuditChain,
    sql: SqlStorage,
    transactions: () => number,
    restart: () => AuditChain,
  ) => Promise<void>,
  { failing }: { failing?: () => boolean } = {},
) {
  const stub = env.PROJECT_COORDINATOR.get(env.PROJECT_COORDINATOR.idFromName(`chain:${name}`));
  await runInDurableObject(stub, async (_instance, state) => {
    let transactions = 0;
    const open = () =>
      new AuditChain({
        sql: state.storage.sql,
        db: openDb(env.DB),
        chain: `chain-test-${name}`,
        now: () => Date.now(),
        transaction: (work) => {
          transactions++;
          state.storage.transactionSync(() => {
            work();
            // A storage failure inside the transaction (it rolls back).
            if (failing?.()) throw new Error("injected storage failure");
          });
        },
        checkpoints: checkpointSigner({ db: openDb(env.DB), masterKey: env.QALA_MASTER_KEY }),
      });
    await body(open(), state.storage.sql, () => transactions, open);
  });
}

const storedSeqs = (sql: SqlStorage) =>
  sql
    .exec<{ seq: number }>("SELECT seq FROM audit_local ORDER BY seq")
    .toArray()
    .map((r) => r.seq);

describe("audit group commit", () => {
  it("keeps a group open while events arrive tick after tick, and stores it in one transaction", async () => {
    await withChain("ticks", async (chain, sql, transactions) => {
      const answered: number[][] = [];
      const appends: Promise<number>[] = [];
      for (let n = 1; n <= 4; n++) {
        appends.push(
          chain.appendGrouped(input(n)).then((seq) => {
            // Nobody answers before its event is stored.
            answered.push(storedSeqs(sql));
            return seq;
          }),
        );
        await tick();
      }
      expect(await Promise.all(appends)).toEqual([1, 2, 3, 4]);
      expect(transactions()).toBe(1);
      for (const stored of answered) expect(stored).toEqual([1, 2, 3, 4]);
      expect(chain.head.seq).toBe(4);
    });
  });

  it("commits a steady stream in bounded groups, in seq order", async () => {
    await withChain("stream", async (chain, sql, transactions) => {
      const appends: Promise<number>[] = [];
      for (let n = 1; n <= 40; n++) {
        appends.push(chain.appendGrouped(input(n)));
        await tick();
      }
      expect(await Promise.all(appends)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      // A group closes after a bounded number of ticks even when events never stop.
      expect(transactions()).toBeGreaterThanOrEqual(4);
      expect(storedSeqs(sql)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await chain.verify()).toMatchObject({ ok: true, events: 40 });
    });
  });

  it("chains an event appended while a group is open, once the group lands", async () => {
    await withChain("interleaved", async (chain, sql) => {
      const grouped = chain.appendGrouped(input(1));
      // A change's event, stored at once, with the seq after the open group's.
      expect(chain.append(input(2))).toBe(2);
      expect(await grouped).toBe(1);
      expect(chain.head.seq).toBe(2);
      expect(await chain.appendGrouped(input(3))).toBe(3);
      expect(storedSeqs(sql)).toEqual([1, 2, 3]);
      expect(await chain.flush()).toBe(3);
      expect(await chain.verify()).toMatchObject({ ok: true, events: 3 });
    });
  });

  it("fails every read of a group whose commit fails, stores none of it, and goes on after", async () => {
    let fail = false;
    await withChain(
      "failing",
      async (chain, sql) => {
        expect(await chain.appendGrouped(input(1))).toBe(1);
        fail = true;
        const group = await Promise.allSettled([
          chain.appendGrouped(input(2)),
          chain.appendGrouped(input(3)),
        ]);
        for (const result of group) {
          expect(result.status === "rejected" && result.reason).toBeInstanceOf(AuditUnavailable);
        }
        expect(storedSeqs(sql)).toEqual([1]);
        expect(chain.head.seq).toBe(1);
        fail = false;
        // The lost group's seqs are taken again: the chain has no hole.
        expect(await chain.appendGrouped(input(4))).toBe(2);
        expect(await chain.verify()).toMatchObject({ ok: true, events: 2 });
      },
      { failing: () => fail },
    );
  });

  it("fills a failed group's seqs with aborted events when a later seq was taken meanwhile", async () => {
    let failures = 0;
    await withChain(
      "failing-interleaved",
      async (chain, sql) => {
        failures = 1;
        const grouped = Promise.allSettled([
          chain.appendGrouped(input(1)),
          chain.appendGrouped(input(2)),
        ]);
        // A change's event takes seq 3 (stored at once) while the group is open.
        expect(chain.append(input(3))).toBe(3);
        for (const result of await grouped) expect(result.status).toBe("rejected");
        expect(storedSeqs(sql)).toEqual([1, 2, 3]);
        expect(chain.head.seq).toBe(3);
        const events = await chain.list({}, 10);
        expect(events.map((e) => [e.seq, e.result])).toEqual([
          [3, "ok"],
          [2, "aborted"],
          [1, "aborted"],
        ]);
        expect(await chain.verify()).toMatchObject({ ok: true, events: 3 });
      },
      { failing: () => failures-- > 0 },
    );
  });

  it("fills every hole after a restart when even the aborted events could not be stored", async () => {
    let failures = 0;
    await withChain(
      "failing-restart",
      async (chain, sql, _transactions, restart) => {
        expect(await chain.appendGrouped(input(1))).toBe(1);
        failures = 2; // the group's commit, then its aborted events
        const grouped = Promise.allSettled([
          chain.appendGrouped(input(2)),
          chain.appendGrouped(input(3)),
        ]);
        expect(chain.append(input(4))).toBe(4);
        await grouped;
        // Seqs 2 and 3 are holes; 4 waits behind them, unhashed.
        expect(storedSeqs(sql)).toEqual([1, 4]);
        expect(chain.head.seq).toBe(1);
        const restarted = restart();
        await restarted.repair();
        expect(restarted.head.seq).toBe(4);
        expect(storedSeqs(sql)).toEqual([1, 2, 3, 4]);
        expect(await restarted.appendGrouped(input(5))).toBe(5);
        expect(await restarted.verify()).toMatchObject({ ok: true, events: 5 });
      },
      { failing: () => failures-- > 0 },
    );
  });

  it("adopts a write that landed in D1 just before a restart, even as the last event", async () => {
    await withChain("landed-write", async (chain, _sql, _transactions, restart) => {
      expect(await chain.appendGrouped(input(1))).toBe(1);
      const write = await chain.reserveWrite({ ...input(2), action: "secret.write" });
      // The write's batch lands with its event; the object stops before it hears so.
      await runBatch(openDb(env.DB), write.statements);
      const restarted = restart();
      await restarted.repair();
      expect(restarted.head).toEqual({ seq: 2, hash: write.hash });
      expect(await restarted.appendGrouped(input(3))).toBe(3);
      await restarted.flush();
      expect(await restarted.verify()).toMatchObject({ ok: true, events: 3 });
    });
  });

  it("asks for the next flush at once while a backlog is larger than one batch", async () => {
    await withChain("backlog", async (chain) => {
      await Promise.all(Array.from({ length: 2500 }, (_, n) => chain.appendGrouped(input(n))));
      const moved: number[] = [];
      const delays: number[] = [];
      while (chain.pending) {
        const flushed = await chain.flush();
        moved.push(flushed);
        delays.push(nextFlushIn(flushed, 1000));
      }
      expect(moved).toEqual([1000, 1000, 500]);
      expect(delays).toEqual([0, 0, 1000]);
      expect(await chain.verify()).toMatchObject({ ok: true, events: 2500 });
    });
  });
});

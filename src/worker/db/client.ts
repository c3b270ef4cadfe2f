// The drizzle client over D1, and helpers every query module shares.
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema.js";
import { probeInstalled, probedD1 } from "../test-probe.js";

const connect = (d1: D1Database) => drizzle(d1, { schema });
export type Db = ReturnType<typeof connect>;

/** One drizzle client per D1 binding and isolate: building one walks the whole schema. */
const clients = new WeakMap<D1Database, Db>();

export function openDb(d1: D1Database): Db {
  if (probeInstalled()) return connect(probedD1(d1));
  let db = clients.get(d1);
  if (!db) {
    db = connect(d1);
    clients.set(d1, db);
  }
  return db;
}

/** D1 allows 100 bound parameters per statement; multi-row inserts are chunked to fit. */
export const MAX_BOUND_PARAMETERS = 100;

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const nowIso = (ms: number = Date.now()) => new Date(ms).toISOString();

/** True when a D1 error is a UNIQUE constraint violation (the backstop of a check). */
export function isUniqueViolation(error: unknown): boolean {
  const message = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return /UNIQUE constraint failed/i.test(message);
}

/** Runs statements as one D1 batch (a transaction): all land or none does. */
export function runBatch(db: Db, statements: readonly BatchItem<"sqlite">[]) {
  const [first, ...rest] = statements;
  return first ? db.batch([first, ...rest]) : Promise.resolve([]);
}

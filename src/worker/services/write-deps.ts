// What a change needs: D1 for reads, a clock, and `land`, which writes the
// change's statements in one D1 batch together with its audit event.
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client.js";

export interface ChangeDeps {
  db: Db;
  masterKey: string;
  now: () => number;
  land: (statements: BatchItem<"sqlite">[]) => Promise<void>;
}

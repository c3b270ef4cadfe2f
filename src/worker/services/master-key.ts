// Master-key rotation: with a new key first in QALA_MASTER_KEY, every KEK and
// every instance key is re-wrapped under it (values and DEKs are untouched),
// after which the old key can be removed from the configuration.
import type { BatchItem } from "drizzle-orm/batch";
import { rewrapUnderActive } from "../crypto/master-keys.js";
import { loadMasterKeyring } from "../key-providers/index.js";
import { kekAad } from "../crypto/envelope.js";
import { instanceAad } from "../crypto/instance-keys.js";
import type { Db } from "../db/client.js";
import {
  liveInstanceKeys,
  masterKeysInUse,
  projectKeks,
  projectTransitKeys,
  setWrapping,
  type KeyRow,
} from "../db/keys.js";
import { listEnvironments } from "../db/projects.js";
import { transitAad } from "./transit.js";

async function rewrapStatements(
  db: Db,
  masterKey: string,
  rows: KeyRow[],
  aadOf: (row: KeyRow) => string,
): Promise<BatchItem<"sqlite">[]> {
  const ring = await loadMasterKeyring(masterKey);
  const live = rows.filter((r) => r.state !== "destroyed");
  // With a versioned key (a KMS key, rotated in the KMS) what it wraps is wrapped
  // again too, so everything moves to its newest version; otherwise only what
  // other keys wrap moves to the active one.
  const todo = ring.versioned ? live : live.filter((r) => r.wrappedBy !== ring.activeId);
  // The new wrappings first: drizzle statements are thenables, so they must not pass through await.
  const wrapped = await Promise.all(todo.map((row) => rewrapUnderActive(ring, row, aadOf(row))));
  return todo.map((row, i) => setWrapping(db, row.id, wrapped[i]!));
}

/**
 * Statements re-wrapping a project's KEKs and its Transit keys under the
 * active master key (run by its coordinator).
 */
export async function rewrapProjectKeks(db: Db, masterKey: string, projectId: string) {
  const environments = await listEnvironments(db, projectId);
  const keks = environments.length
    ? await projectKeks(
        db,
        environments.map((e) => e.id),
      )
    : [];
  const transit = await projectTransitKeys(db, projectId);
  return [
    ...(await rewrapStatements(db, masterKey, keks, (k) => kekAad(k.scopeId, k.version))),
    ...(await rewrapStatements(db, masterKey, transit, (k) => transitAad(k.scopeId, k.version))),
  ];
}

/** Statements re-wrapping the instance keys (pepper, signing, payload, cookie, webhook keys). */
export async function rewrapInstanceKeys(db: Db, masterKey: string) {
  const rows = await liveInstanceKeys(db);
  return rewrapStatements(db, masterKey, rows, (k) => instanceAad(k.scopeId, k.version));
}

export async function masterKeyStatus(db: Db, masterKey: string) {
  const ring = await loadMasterKeyring(masterKey);
  return { active: ring.activeId, in_use: await masterKeysInUse(db) };
}

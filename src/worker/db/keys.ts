// Queries on wrapped keys (KEKs, instance keys, Transit keys).
import { and, desc, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { keys } from "./schema.js";

export type KeyRow = typeof keys.$inferSelect;

export const findKey = (db: Db, id: string) => db.select().from(keys).where(eq(keys.id, id)).get();

export const activeKek = (db: Db, environmentId: string) =>
  db
    .select()
    .from(keys)
    .where(
      and(eq(keys.scope, "environment"), eq(keys.scopeId, environmentId), eq(keys.state, "active")),
    )
    .orderBy(desc(keys.version))
    .limit(1)
    .get();

export const insertKey = (db: Db, row: typeof keys.$inferInsert) => db.insert(keys).values(row);

/** The newest key of an instance-wide secret (`pepper`, `jwt`), whatever its state. */
export const latestInstanceKey = (db: Db, name: string) =>
  db
    .select()
    .from(keys)
    .where(and(eq(keys.scope, "instance"), eq(keys.scopeId, name)))
    .orderBy(desc(keys.version))
    .limit(1)
    .get();

export const setKeyState = (db: Db, id: string, state: KeyRow["state"]) =>
  db.update(keys).set({ state }).where(eq(keys.id, id));

/** Every KEK of the environments of a project, newest first per environment. */
export const projectKeks = (db: Db, environmentIds: string[]) =>
  db
    .select()
    .from(keys)
    .where(and(eq(keys.scope, "environment"), inArray(keys.scopeId, environmentIds)))
    .orderBy(keys.scopeId, desc(keys.version))
    .all();

/** Instance keys (pepper, signing keys, …) that are not destroyed. */
export const liveInstanceKeys = (db: Db) =>
  db
    .select()
    .from(keys)
    .where(and(eq(keys.scope, "instance"), ne(keys.state, "destroyed")))
    .all();

/** Every version of a project's Transit keys (scope ids `<project id>:<name>`). */
export const projectTransitKeys = (db: Db, projectId: string) =>
  db
    .select()
    .from(keys)
    .where(
      and(
        eq(keys.scope, "transit"),
        sql`substr(${keys.scopeId}, 1, ${projectId.length + 1}) = ${`${projectId}:`}`,
      ),
    )
    .all();

export const setWrapping = (
  db: Db,
  id: string,
  wrapped: { wrappedKey: string; wrappedBy: string },
) => db.update(keys).set(wrapped).where(eq(keys.id, id));

/** The master keys that still wrap a key nobody destroyed. */
export const masterKeysInUse = async (db: Db) =>
  (
    await db
      .selectDistinct({ id: keys.wrappedBy })
      .from(keys)
      .where(ne(keys.state, "destroyed"))
      .orderBy(keys.wrappedBy)
      .all()
  ).map((r) => r.id);

/** Every version of a Transit key, newest first. */
export const transitKeyVersions = (db: Db, scopeId: string) =>
  db
    .select()
    .from(keys)
    .where(and(eq(keys.scope, "transit"), eq(keys.scopeId, scopeId)))
    .orderBy(desc(keys.version))
    .all();

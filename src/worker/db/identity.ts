// Queries on users, API tokens and instance markers.
import { eq } from "drizzle-orm";
import type { Db } from "./client.js";
import { apiTokens, instanceState, users } from "./schema.js";

export type UserRow = typeof users.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;

export const findApiToken = (db: Db, id: string) =>
  db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();

export const insertBootstrapMarker = (db: Db, at: string) =>
  db.insert(instanceState).values({ name: "bootstrapped", value: "true", createdAt: at });

export const findBootstrapMarker = (db: Db) =>
  db.select().from(instanceState).where(eq(instanceState.name, "bootstrapped")).get();

export const insertUser = (db: Db, row: typeof users.$inferInsert) => db.insert(users).values(row);

export const insertApiToken = (db: Db, row: typeof apiTokens.$inferInsert) =>
  db.insert(apiTokens).values(row);

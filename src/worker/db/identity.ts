// Queries on users, API tokens, refresh tokens and instance markers.
import { and, asc, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "./client.js";
import { apiTokens, instanceState, refreshTokens, users } from "./schema.js";

export type UserRow = typeof users.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

export const findApiToken = (db: Db, id: string) =>
  db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();

export const insertBootstrapMarker = (db: Db, at: string) =>
  db.insert(instanceState).values({ name: "bootstrapped", value: "true", createdAt: at });

export const findBootstrapMarker = (db: Db) =>
  db.select().from(instanceState).where(eq(instanceState.name, "bootstrapped")).get();

export const insertUser = (db: Db, row: typeof users.$inferInsert) => db.insert(users).values(row);
export const findUser = (db: Db, id: string) =>
  db.select().from(users).where(eq(users.id, id)).get();
export const findUserByEmail = (db: Db, email: string) =>
  db.select().from(users).where(eq(users.email, email)).get();
export const listUsers = (db: Db, limit: number, afterEmail?: string) =>
  db
    .select()
    .from(users)
    .where(afterEmail ? gt(users.email, afterEmail) : undefined)
    .orderBy(asc(users.email))
    .limit(limit + 1)
    .all();
export const disableUser = (db: Db, id: string, at: string) =>
  db.update(users).set({ disabledAt: at }).where(eq(users.id, id));

export const insertApiToken = (db: Db, row: typeof apiTokens.$inferInsert) =>
  db.insert(apiTokens).values(row);

export const insertRefreshToken = (db: Db, row: typeof refreshTokens.$inferInsert) =>
  db.insert(refreshTokens).values(row);
export const findRefreshToken = (db: Db, id: string) =>
  db.select().from(refreshTokens).where(eq(refreshTokens.id, id)).get();
/** Marks a refresh token spent, only if nobody spent it first (the check is in the WHERE). */
export const spendRefreshToken = (db: Db, id: string, at: string) =>
  db
    .update(refreshTokens)
    .set({ usedAt: at })
    .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.usedAt)))
    .returning({ id: refreshTokens.id });
export const revokeFamily = (db: Db, familyId: string, at: string) =>
  db
    .update(refreshTokens)
    .set({ revokedAt: at })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
export const revokeUserRefreshTokens = (db: Db, userId: string, at: string) =>
  db
    .update(refreshTokens)
    .set({ revokedAt: at })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
export const revokeUserApiTokens = (db: Db, userId: string, at: string) =>
  db
    .update(apiTokens)
    .set({ revokedAt: at })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)));

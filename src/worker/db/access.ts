// Queries on grants, custom roles, teams, project tokens and OIDC trusts.
import { and, asc, eq, gt, inArray, isNull, or, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { apiTokens, grants, oidcTrusts, roles, teamMembers, teams } from "./schema.js";

export type GrantRow = typeof grants.$inferSelect;
export type RoleRow = typeof roles.$inferSelect;
export type TeamRow = typeof teams.$inferSelect;
export type TrustRow = typeof oidcTrusts.$inferSelect;

const live = (now: string) => or(isNull(grants.expiresAt), gt(grants.expiresAt, now));

const teamsOf = (db: Db, userId: string) =>
  db.select({ id: teamMembers.teamId }).from(teamMembers).where(eq(teamMembers.userId, userId));

const subjectIs = (db: Db, userId: string) =>
  or(
    and(eq(grants.subjectKind, "user"), eq(grants.subjectId, userId)),
    and(eq(grants.subjectKind, "team"), inArray(grants.subjectId, teamsOf(db, userId))),
  );

/** A user's unexpired grants on a project: direct and through teams. */
export const userGrants = (db: Db, projectId: string, userId: string, now: string) =>
  db
    .select()
    .from(grants)
    .where(and(eq(grants.projectId, projectId), subjectIs(db, userId), live(now)))
    .all();

/** Every unexpired grant a user holds, on any project. */
export const allUserGrants = (db: Db, userId: string, now: string) =>
  db
    .select()
    .from(grants)
    .where(and(subjectIs(db, userId), live(now)))
    .all();

export const projectGrants = (db: Db, projectId: string) =>
  db
    .select()
    .from(grants)
    .where(eq(grants.projectId, projectId))
    .orderBy(asc(grants.createdAt))
    .all();

export const findGrant = (db: Db, projectId: string, kind: "user" | "team", subjectId: string) =>
  db
    .select()
    .from(grants)
    .where(
      and(
        eq(grants.projectId, projectId),
        eq(grants.subjectKind, kind),
        eq(grants.subjectId, subjectId),
      ),
    )
    .get();

export const upsertGrant = (db: Db, row: typeof grants.$inferInsert) =>
  db
    .insert(grants)
    .values(row)
    .onConflictDoUpdate({
      target: [grants.projectId, grants.subjectKind, grants.subjectId],
      set: {
        role: sql`excluded.role`,
        environments: sql`excluded.environments`,
        expiresAt: sql`excluded.expires_at`,
        createdBy: sql`excluded.created_by`,
        createdAt: sql`excluded.created_at`,
      },
    });

export const deleteGrant = (db: Db, id: string) => db.delete(grants).where(eq(grants.id, id));

export const projectRoles = (db: Db, projectId: string) =>
  db.select().from(roles).where(eq(roles.projectId, projectId)).orderBy(asc(roles.name)).all();

export const insertRole = (db: Db, row: typeof roles.$inferInsert) => db.insert(roles).values(row);

export const findTeam = (db: Db, id: string) =>
  db.select().from(teams).where(eq(teams.id, id)).get();
export const listTeams = (db: Db) => db.select().from(teams).orderBy(asc(teams.name)).all();
export const insertTeam = (db: Db, row: typeof teams.$inferInsert) => db.insert(teams).values(row);
export const teamMemberIds = (db: Db, teamId: string) =>
  db.select().from(teamMembers).where(eq(teamMembers.teamId, teamId)).all();
export const addTeamMember = (db: Db, teamId: string, userId: string, at: string) =>
  db.insert(teamMembers).values({ teamId, userId, createdAt: at }).onConflictDoNothing();
export const removeTeamMember = (db: Db, teamId: string, userId: string) =>
  db.delete(teamMembers).where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId)));

export const projectTokens = (db: Db, projectId: string) =>
  db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.projectId, projectId))
    .orderBy(asc(apiTokens.createdAt))
    .all();

export const revokeToken = (db: Db, id: string, at: string) =>
  db.update(apiTokens).set({ revokedAt: at }).where(eq(apiTokens.id, id));

export const touchToken = (db: Db, id: string, at: string) =>
  db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id));

export const findTrust = (db: Db, id: string) =>
  db.select().from(oidcTrusts).where(eq(oidcTrusts.id, id)).get();
export const projectTrusts = (db: Db, projectId: string) =>
  db
    .select()
    .from(oidcTrusts)
    .where(eq(oidcTrusts.projectId, projectId))
    .orderBy(asc(oidcTrusts.createdAt))
    .all();
export const insertTrust = (db: Db, row: typeof oidcTrusts.$inferInsert) =>
  db.insert(oidcTrusts).values(row);
export const deleteTrust = (db: Db, id: string) =>
  db.delete(oidcTrusts).where(eq(oidcTrusts.id, id));

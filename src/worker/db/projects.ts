// Queries on projects and environments.
import { and, asc, eq, gt, max, sql } from "drizzle-orm";
import type { Db } from "./client.js";
import { environments, keys, projects } from "./schema.js";

export type ProjectRow = typeof projects.$inferSelect;
export type EnvironmentRow = typeof environments.$inferSelect;

/** `ref` is a slug or an id (ids contain `_`, slugs cannot). */
export async function findProject(db: Db, ref: string): Promise<ProjectRow | undefined> {
  const column = ref.includes("_") ? projects.id : projects.slug;
  return db.select().from(projects).where(eq(column, ref)).get();
}

export function listProjects(db: Db, limit: number, afterSlug?: string) {
  return db
    .select()
    .from(projects)
    .where(afterSlug ? gt(projects.slug, afterSlug) : undefined)
    .orderBy(asc(projects.slug))
    .limit(limit + 1)
    .all();
}

export function listEnvironments(db: Db, projectId: string) {
  return db
    .select()
    .from(environments)
    .where(eq(environments.projectId, projectId))
    .orderBy(asc(environments.position))
    .all();
}

export async function findEnvironment(
  db: Db,
  projectId: string,
  ref: string,
): Promise<EnvironmentRow | undefined> {
  const column = ref.includes("_") ? environments.id : environments.slug;
  return db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, projectId), eq(column, ref)))
    .get();
}

/** The project and environment of a path in one query (each ref a slug or an id). */
export async function findEnvironmentScope(db: Db, projectRef: string, environmentRef: string) {
  const projectColumn = projectRef.includes("_") ? projects.id : projects.slug;
  const environmentColumn = environmentRef.includes("_") ? environments.id : environments.slug;
  return db
    .select({ project: projects, environment: environments })
    .from(environments)
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(and(eq(projectColumn, projectRef), eq(environmentColumn, environmentRef)))
    .get();
}

export async function nextEnvironmentPosition(db: Db, projectId: string): Promise<number> {
  const row = await db
    .select({ top: max(environments.position) })
    .from(environments)
    .where(eq(environments.projectId, projectId))
    .get();
  return (row?.top ?? -1) + 1;
}

export const insertProject = (db: Db, row: typeof projects.$inferInsert) =>
  db.insert(projects).values(row);

export const insertEnvironment = (db: Db, row: typeof environments.$inferInsert) =>
  db.insert(environments).values(row);

export const updateProject = (db: Db, id: string, set: Partial<typeof projects.$inferInsert>) =>
  db.update(projects).set(set).where(eq(projects.id, id));

export const bumpRevision = (db: Db, environmentId: string) =>
  db
    .update(environments)
    .set({ revision: sql`${environments.revision} + 1` })
    .where(eq(environments.id, environmentId));

/** Deletes the environment's KEKs first (crypto-shred), then the environment (cascades). */
export const deleteEnvironmentStatements = (db: Db, environmentId: string) =>
  [
    db.delete(keys).where(and(eq(keys.scope, "environment"), eq(keys.scopeId, environmentId))),
    db.delete(environments).where(eq(environments.id, environmentId)),
  ] as const;

export const deleteProjectStatements = (db: Db, projectId: string) =>
  [
    db
      .delete(keys)
      .where(
        and(
          eq(keys.scope, "environment"),
          sql`${keys.scopeId} IN (SELECT ${environments.id} FROM ${environments} WHERE ${environments.projectId} = ${projectId})`,
        ),
      ),
    db.delete(projects).where(eq(projects.id, projectId)),
  ] as const;

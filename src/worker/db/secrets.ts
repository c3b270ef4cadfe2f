// Queries on secrets and their versions.
import { and, asc, count, desc, eq, gt, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { chunk, MAX_BOUND_PARAMETERS, type Db } from "./client.js";
import { secrets, secretVersions } from "./schema.js";

export type SecretRow = typeof secrets.$inferSelect;
export type SecretVersionRow = typeof secretVersions.$inferSelect;
export type NewSecretRow = typeof secrets.$inferInsert;
export type NewSecretVersionRow = typeof secretVersions.$inferInsert;

const live = (environmentId: string) =>
  and(
    eq(secrets.environmentId, environmentId),
    isNull(secrets.deletedAt),
    isNull(secrets.purgedAt),
  );

/** Live secrets of an environment with their current version, ordered by key. */
export function listCurrent(
  db: Db,
  environmentId: string,
  page?: { limit: number; after?: string },
) {
  const query = db
    .select({ secret: secrets, version: secretVersions })
    .from(secrets)
    .innerJoin(
      secretVersions,
      and(
        eq(secretVersions.secretId, secrets.id),
        eq(secretVersions.version, secrets.currentVersion),
      ),
    )
    .where(
      and(
        live(environmentId),
        // A current version deleted on its own (Vault's per-version delete) hides the key.
        isNull(secretVersions.deletedAt),
        page?.after ? gt(secrets.key, page.after) : undefined,
      ),
    )
    .orderBy(asc(secrets.key));
  return page ? query.limit(page.limit + 1).all() : query.all();
}

/** A secret and one of its versions (the current one unless `version` is given), in one query. */
export const findSecretVersion = (db: Db, environmentId: string, key: string, version?: number) =>
  db
    .select({ secret: secrets, version: secretVersions })
    .from(secrets)
    .leftJoin(
      secretVersions,
      and(
        eq(secretVersions.secretId, secrets.id),
        eq(secretVersions.version, version ?? secrets.currentVersion),
      ),
    )
    .where(and(eq(secrets.environmentId, environmentId), eq(secrets.key, key)))
    .get();

export const findSecret = (db: Db, environmentId: string, key: string) =>
  db
    .select()
    .from(secrets)
    .where(and(eq(secrets.environmentId, environmentId), eq(secrets.key, key)))
    .get();

export const listSecrets = (db: Db, environmentId: string) =>
  db.select().from(secrets).where(eq(secrets.environmentId, environmentId)).all();

export const findVersion = (db: Db, secretId: string, version: number) =>
  db
    .select()
    .from(secretVersions)
    .where(and(eq(secretVersions.secretId, secretId), eq(secretVersions.version, version)))
    .get();

/** The named versions of a secret (those that exist). */
export const findVersions = (db: Db, secretId: string, versions: number[]) =>
  db
    .select()
    .from(secretVersions)
    .where(and(eq(secretVersions.secretId, secretId), inArray(secretVersions.version, versions)))
    .all();

export const listVersions = (db: Db, secretId: string, limit: number, before?: number) =>
  db
    .select()
    .from(secretVersions)
    .where(
      and(
        eq(secretVersions.secretId, secretId),
        before !== undefined ? lt(secretVersions.version, before) : undefined,
      ),
    )
    .orderBy(desc(secretVersions.version))
    .limit(limit + 1)
    .all();

/** Secrets that still exist in the environment (soft-deleted ones can be restored). */
export async function countUnpurged(db: Db, environmentId: string): Promise<number> {
  const row = await db
    .select({ n: count() })
    .from(secrets)
    .where(and(eq(secrets.environmentId, environmentId), isNull(secrets.purgedAt)))
    .get();
  return row?.n ?? 0;
}

// ---- write statements (the coordinator batches them) ----

const SECRET_COLUMNS = 12;
const VERSION_COLUMNS = 11;

/** Inserts or updates secret rows, keyed by (environment_id, key). */
export const upsertSecrets = (db: Db, rows: NewSecretRow[]) =>
  chunk(rows, Math.floor(MAX_BOUND_PARAMETERS / SECRET_COLUMNS)).map((part) =>
    db
      .insert(secrets)
      .values(part)
      .onConflictDoUpdate({
        target: [secrets.environmentId, secrets.key],
        set: {
          currentVersion: sql`excluded.current_version`,
          updatedAt: sql`excluded.updated_at`,
          updatedBy: sql`excluded.updated_by`,
          deletedAt: sql`NULL`,
          purgedAt: sql`NULL`,
          tags: sql`excluded.tags`,
          note: sql`excluded.note`,
          rotation: sql`excluded.rotation`,
        },
      }),
  );

export const insertVersions = (db: Db, rows: NewSecretVersionRow[]) =>
  chunk(rows, Math.floor(MAX_BOUND_PARAMETERS / VERSION_COLUMNS)).map((part) =>
    db.insert(secretVersions).values(part),
  );

export const markDeleted = (db: Db, secretId: string, at: string | null) =>
  db.update(secrets).set({ deletedAt: at }).where(eq(secrets.id, secretId));

/** Destroys every version (wrapped DEKs deleted: crypto-shredding) and hides the key. */
export const purgeStatements = (db: Db, secret: SecretRow, at: string) =>
  [
    db
      .update(secretVersions)
      .set({ wrappedDek: null, destroyedAt: at })
      .where(and(eq(secretVersions.secretId, secret.id), isNull(secretVersions.destroyedAt))),
    db
      .update(secrets)
      .set({ deletedAt: secret.deletedAt ?? at, purgedAt: at })
      .where(eq(secrets.id, secret.id)),
  ] as const;

export const markRevoked = (db: Db, secretId: string, version: number, at: string) =>
  db
    .update(secretVersions)
    .set({ revokedAt: at })
    .where(and(eq(secretVersions.secretId, secretId), eq(secretVersions.version, version)));

/** Versions whose DEK is still wrapped by `kekId`, with what their AAD needs. */
export const versionsUnderKek = (db: Db, kekId: string, limit: number) =>
  db
    .select({
      secretId: secretVersions.secretId,
      version: secretVersions.version,
      wrappedDek: secretVersions.wrappedDek,
      key: secrets.key,
      environmentId: secrets.environmentId,
    })
    .from(secretVersions)
    .innerJoin(secrets, eq(secrets.id, secretVersions.secretId))
    .where(and(eq(secretVersions.kekId, kekId), isNotNull(secretVersions.wrappedDek)))
    .limit(limit)
    .all();

export async function countUnderKek(db: Db, kekId: string): Promise<number> {
  const row = await db
    .select({ n: count() })
    .from(secretVersions)
    .where(and(eq(secretVersions.kekId, kekId), isNotNull(secretVersions.wrappedDek)))
    .get();
  return row?.n ?? 0;
}

export const setWrappedDek = (
  db: Db,
  secretId: string,
  version: number,
  wrappedDek: string,
  kekId: string,
) =>
  db
    .update(secretVersions)
    .set({ wrappedDek, kekId })
    .where(and(eq(secretVersions.secretId, secretId), eq(secretVersions.version, version)));

/** Soft-deleted, not yet purged secrets deleted before `before`. */
export const deletedBefore = (db: Db, environmentIds: string[], before: string) =>
  db
    .select()
    .from(secrets)
    .where(
      and(
        inArray(secrets.environmentId, environmentIds),
        isNull(secrets.purgedAt),
        lt(secrets.deletedAt, before),
      ),
    )
    .all();

/** Live versions older than the newest `keep` of their secret. */
export const versionsBeyond = (db: Db, environmentIds: string[], keep: number) =>
  db
    .select({ secretId: secretVersions.secretId, version: secretVersions.version })
    .from(secretVersions)
    .innerJoin(secrets, eq(secrets.id, secretVersions.secretId))
    .where(
      and(
        inArray(secrets.environmentId, environmentIds),
        isNull(secretVersions.destroyedAt),
        sql`${secretVersions.version} <= ${secrets.currentVersion} - ${keep}`,
      ),
    )
    .all();

/** Vault's per-version soft delete (`at`) and undelete (`null`). */
export const markVersionsDeleted = (
  db: Db,
  secretId: string,
  versions: number[],
  at: string | null,
) =>
  db
    .update(secretVersions)
    .set({ deletedAt: at })
    .where(and(eq(secretVersions.secretId, secretId), inArray(secretVersions.version, versions)));

/** Destroys one version: its wrapped DEK is deleted (crypto-shredding). */
export const destroyVersion = (db: Db, secretId: string, version: number, at: string) =>
  db
    .update(secretVersions)
    .set({ wrappedDek: null, destroyedAt: at })
    .where(and(eq(secretVersions.secretId, secretId), eq(secretVersions.version, version)));

/** Live secrets that carry a rotation policy, in these environments (the cron job's list). */
export const rotatingSecrets = (db: Db, environmentIds: string[]) =>
  environmentIds.length === 0
    ? Promise.resolve([])
    : db
        .select()
        .from(secrets)
        .where(
          and(
            inArray(secrets.environmentId, environmentIds),
            isNotNull(secrets.rotation),
            isNull(secrets.deletedAt),
            isNull(secrets.purgedAt),
          ),
        )
        .all();

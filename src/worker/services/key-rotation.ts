// KEK rotation: a new KEK version becomes active for new writes at once; the
// DEKs wrapped by the old one are re-wrapped in batches (value ciphertexts are
// never rewritten); once nothing uses the old KEK it is destroyed. Progress
// lives in D1 itself (each version's kek_id), so a job that dies between
// batches resumes where it stopped. Runs only inside the project's coordinator.
import { nowIso, runBatch, type Db } from "../db/client.js";
import { activeKek, insertKey, setKeyState } from "../db/keys.js";
import { findEnvironment, listEnvironments } from "../db/projects.js";
import { countUnderKek, setWrappedDek, versionsUnderKek } from "../db/secrets.js";
import { createKek, rewrapDek } from "../crypto/envelope.js";
import { newId } from "../crypto/ids.js";
import { loadMasterKeyring } from "../key-providers/index.js";
import { AppError } from "../errors.js";
import { kekById } from "./kek-provider.js";
import type { ChangeDeps } from "./write-deps.js";

export const REWRAP_BATCH = 100;

export interface RotationPair {
  environmentId: string;
  from: string;
  to: string;
}

export interface RotationJob {
  id: string;
  state: "running" | "done";
  done: number;
  total: number;
  pairs: RotationPair[];
  created_at: string;
}

/** Makes the new KEK versions active (one batch, with the audit event) and plans the re-wrap. */
export async function startRotation(
  deps: ChangeDeps,
  input: { projectId: string; environment?: string; jobId: string },
): Promise<RotationJob> {
  const environments = input.environment
    ? [await findEnvironment(deps.db, input.projectId, input.environment)]
    : await listEnvironments(deps.db, input.projectId);
  if (environments.some((e) => e === undefined))
    throw new AppError("not_found", "environment not found");
  const ring = await loadMasterKeyring(deps.masterKey);
  const at = nowIso(deps.now());
  const pairs: RotationPair[] = [];
  const statements = [];
  for (const environment of environments) {
    const current = await activeKek(deps.db, environment!.id);
    if (!current) throw new AppError("not_found", "environment has no key");
    const next = await createKek(ring, environment!.id, current.version + 1);
    const id = newId("kek");
    statements.push(
      setKeyState(deps.db, current.id, "retired"),
      insertKey(deps.db, {
        id,
        scope: "environment",
        scopeId: environment!.id,
        version: current.version + 1,
        wrappedKey: next.wrapped.wrappedKey,
        wrappedBy: next.wrapped.wrappedBy,
        state: "active",
        createdAt: at,
      }),
    );
    pairs.push({ environmentId: environment!.id, from: current.id, to: id });
  }
  await deps.land(statements);
  let total = 0;
  for (const pair of pairs) total += await countUnderKek(deps.db, pair.from);
  return { id: input.jobId, state: "running", done: 0, total, pairs, created_at: at };
}

/**
 * Re-wraps one batch of DEKs of the first pair that still has some; destroys
 * each old KEK once nothing uses it. Returns how many DEKs moved (0: finished).
 */
export async function rewrapBatch(
  deps: { db: Db; masterKey: string },
  projectId: string,
  job: RotationJob,
): Promise<number> {
  for (const pair of job.pairs) {
    const rows = await versionsUnderKek(deps.db, pair.from, REWRAP_BATCH);
    if (rows.length === 0) {
      await setKeyState(deps.db, pair.from, "destroyed");
      continue;
    }
    const [from, to] = await Promise.all([
      kekById(deps.db, deps.masterKey, pair.from),
      kekById(deps.db, deps.masterKey, pair.to),
    ]);
    // Re-wrap first, then build the statements: a drizzle query is thenable, so
    // returning one from an async function would run it on its own.
    const rewrapped = await Promise.all(
      rows.map((row) =>
        rewrapDek(
          from,
          to,
          {
            projectId,
            environmentId: row.environmentId,
            secretId: row.secretId,
            key: row.key,
            version: row.version,
          },
          row.wrappedDek!,
        ),
      ),
    );
    const statements = rows.map((row, i) =>
      setWrappedDek(deps.db, row.secretId, row.version, rewrapped[i]!, pair.to),
    );
    await runBatch(deps.db, statements);
    return rows.length;
  }
  return 0;
}

// ProjectCoordinator: one per project, the only writer of the project's
// secrets, environments, grants, tokens and trust policies, and the keeper of
// its audit chain. Changes run one at a time (a promise chain: D1 calls do not
// close the input gate, so the object's own serialisation is what makes version
// numbers and check-and-set decisions safe), and each lands in one D1 batch
// together with its audit event.
import { DurableObject } from "cloudflare:workers";
import type { BatchItem } from "drizzle-orm/batch";
import type { Permission, ProjectSettings } from "../../contract/index.js";
import { AuditChain, AuditUnavailable, nextFlushIn } from "../audit/chain.js";
import { systemContext, type AuditContext, type AuditInput } from "../audit/event.js";
import { openDb, runBatch, type Db } from "../db/client.js";
import type { AuditFilter } from "../db/audit.js";
import type { Env } from "../env.js";
import { AppError, type Result } from "../errors.js";
import {
  addRole,
  addTrust,
  createToken,
  putGrant,
  removeGrant,
  removeTrust,
  revokeProjectToken,
  type GrantInput,
  type TokenInput,
  type TrustInput,
} from "../services/access-writes.js";
import {
  addEnvironment,
  changeProject,
  createProject,
  removeEnvironment,
  removeProject,
} from "../services/projects.js";
import {
  bulkChange,
  deleteSecret,
  putSecret,
  restoreSecret,
  revokeVersion,
  rollbackSecret,
  rotateSecret,
  type BulkInput,
  type PutInput,
  type SecretTarget,
} from "../services/secret-writes.js";
import type { ChangeDeps } from "../services/write-deps.js";
import {
  deleteVersions,
  destroyVersions,
  undeleteVersions,
  type VersionsTarget,
} from "../services/version-lifecycle.js";
import { touchToken } from "../db/access.js";
import { Leases } from "./leases.js";
import { newId } from "../crypto/ids.js";
import { rewrapBatch, startRotation, type RotationJob } from "../services/key-rotation.js";
import { maintainProject } from "../services/maintenance.js";
import { checkpointSigner } from "../services/audit-checkpoints.js";
import { fetchRotatedValue, isDue, parseRotation, webhookSecret } from "../services/rotation.js";
import { rotatingSecrets } from "../db/secrets.js";
import { rewrapProjectKeks } from "../services/master-key.js";
import { createTransitKey, rotateTransitKey } from "../services/transit.js";
import { KeyProviderError } from "../key-providers/index.js";
import { listEnvironments } from "../db/projects.js";
import { ProjectState } from "./project-state.js";
import type { CoordinatorAnswer, ReadRequest } from "./read-model.js";
import { keySource } from "../key-providers/index.js";

const FLUSH_DELAY_MS = 1000;

/** Test-only switches, honoured only when the test configuration binds QALA_TEST_HOOKS. */
export interface TestHooks {
  failAudit?: boolean;
  clockOffsetMs?: number;
  /** Make the key-rotation job throw after this many batches (a crash between batches). */
  failRotationAfterBatches?: number;
}

const ROTATION_LEASE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The master-key job's changes, and the cron job's. */
const SYSTEM_MASTER_KEY = systemContext("master-key");
const CRON = systemContext("cron");
const ROTATION_JOB = "rotation";

export class ProjectCoordinator extends DurableObject<Env> {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #db: Db;
  #chain: AuditChain | undefined;
  #state: ProjectState | undefined;
  #hooks: TestHooks = {};

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#db = openDb(env.DB);
  }

  #now = () => Date.now() + (this.#hooks.clockOffsetMs ?? 0);

  /** The chain is keyed by project id, which the first call names. */
  async #audit(projectId: string): Promise<AuditChain> {
    if (!this.#chain) {
      const chain = new AuditChain({
        sql: this.ctx.storage.sql,
        db: this.#db,
        chain: projectId,
        now: this.#now,
        failing: () => this.#hooks.failAudit === true,
        transaction: (body) => this.ctx.storage.transactionSync(body),
        checkpoints: checkpointSigner({ db: this.#db, masterKey: keySource(this.env) }),
      });
      await this.ctx.blockConcurrencyWhile(() => chain.repair());
      this.#chain = chain;
    }
    return this.#chain;
  }

  /** When the one alarm is due, as far as this object knows; saves a storage call per read. */
  #alarmAt: number | null | undefined;

  /** One alarm multiplexes the audit flush and lease expiry: keep the earliest. */
  async #alarmBy(at: number) {
    if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  #scheduleFlush() {
    return this.#alarmBy(Date.now() + FLUSH_DELAY_MS);
  }

  #project(projectId: string): ProjectState {
    this.#state ??= new ProjectState(this.#db, projectId);
    return this.#state;
  }

  #leases: Leases | undefined;

  get #locks(): Leases {
    this.#leases ??= new Leases(this.ctx.storage.sql);
    return this.#leases;
  }

  /**
   * Locks a long job (an import, a key rotation) for `ttlMs`; 409 while
   * another job holds it. The holder renews by acquiring again; a crashed job's
   * lease runs out and the alarm sweeps it.
   */
  async acquireLock(input: { job: string; holder: string; ttlMs: number }) {
    return settle(
      (async () => {
        const lease = this.#locks.acquire(input.job, input.holder, input.ttlMs, this.#now());
        if ("heldBy" in lease) {
          throw new AppError("conflict", `another ${input.job} job is running`, {
            details: { expires_at: new Date(lease.heldBy.expiresAt).toISOString() },
          });
        }
        await this.#alarmBy(lease.expiresAt - (this.#now() - Date.now()));
        return {
          job: lease.name,
          holder: lease.holder,
          expires_at: new Date(lease.expiresAt).toISOString(),
        };
      })(),
    );
  }

  async releaseLock(input: { job: string; holder: string }) {
    return settle(Promise.resolve({ released: this.#locks.release(input.job, input.holder) }));
  }

  /**
   * Rotates the KEKs of one environment or all: new versions active at once
   * (with the key.rotate event), then the re-wrap runs in batches on the alarm
   * under the key-rotation lease; 409 while another rotation runs.
   */
  rotateKeys(input: { projectId: string; environment?: string }, audit: AuditContext) {
    return this.#change(input.projectId, "key.rotate", audit, async (deps) => {
      const jobId = newId("job");
      const lease = this.#locks.acquire(ROTATION_JOB, jobId, ROTATION_LEASE_MS, this.#now());
      if ("heldBy" in lease) throw new AppError("conflict", "a key rotation is already running");
      const job = await startRotation(deps, { ...input, jobId });
      await this.ctx.storage.put(`job:${job.id}`, { ...job, projectId: input.projectId });
      await this.ctx.storage.put("job:current", job.id);
      this.#alarmAt = undefined;
      await this.ctx.storage.setAlarm(Date.now());
      return { job: job.id };
    });
  }

  async rotationJob(input: { job: string }) {
    return settle(
      (async () => {
        const job = await this.ctx.storage.get<RotationJob>(`job:${input.job}`);
        if (!job) throw new AppError("not_found", "job not found");
        return { id: job.id, state: job.state, done: job.done, total: job.total };
      })(),
    );
  }

  /** One batch of the running rotation per alarm; a throw leaves it to the alarm's retry. */
  async #continueRotation(): Promise<boolean> {
    const id = await this.ctx.storage.get<string>("job:current");
    if (!id) return false;
    const job = await this.ctx.storage.get<RotationJob & { projectId: string; batches?: number }>(
      `job:${id}`,
    );
    if (!job || job.state !== "running") return false;
    const moved = await rewrapBatch(
      { db: this.#db, masterKey: keySource(this.env) },
      job.projectId,
      job,
    );
    this.#state?.invalidate();
    const next = { ...job, done: job.done + moved, batches: (job.batches ?? 0) + 1 };
    if (moved === 0) {
      await this.ctx.storage.put(`job:${id}`, { ...next, state: "done" });
      await this.ctx.storage.delete("job:current");
      this.#locks.release(ROTATION_JOB, id);
      return false;
    }
    this.#locks.acquire(ROTATION_JOB, id, ROTATION_LEASE_MS, this.#now()); // renew the lease
    await this.ctx.storage.put(`job:${id}`, next);
    if (this.#hooks.failRotationAfterBatches === next.batches) {
      throw new Error("injected crash between rotation batches");
    }
    return true;
  }

  override async alarm() {
    this.#alarmAt = null;
    if (await this.#continueRotation()) await this.#alarmBy(Date.now());
    const nextLease = this.#locks.sweep(this.#now());
    if (nextLease !== null) await this.#alarmBy(nextLease - (this.#now() - Date.now()));
    await this.#flushLastUsed();
    if (!this.#chain) return;
    const flushed = await this.#chain.flush();
    if (this.#chain.pending) await this.#alarmBy(Date.now() + nextFlushIn(flushed, FLUSH_DELAY_MS));
  }

  /** last_used_at is kept in memory on the read path and written here, never per read. */
  async #flushLastUsed() {
    const used = this.#state?.used;
    if (!used?.size) return;
    const entries = [...used];
    used.clear();
    await runBatch(
      this.#db,
      entries.map(([id, at]) => touchToken(this.#db, id, new Date(at).toISOString())),
    );
  }

  /**
   * One call per read: authenticate (project tokens), authorize, take from the
   * rate-limit bucket, append the audit event (durable before anything is
   * returned: fail-closed), and hand back ciphertext rows for the Worker to decrypt.
   */
  async read(req: ReadRequest): Promise<Result<CoordinatorAnswer>> {
    return settle(
      (async (): Promise<CoordinatorAnswer> => {
        const chain = await this.#audit(req.projectId);
        const outcome = await this.#project(req.projectId).read(req, this.#now());
        // Nothing was read or taken: the Worker calls again with the certificate, and that call is audited.
        if (outcome.tlsNeeded) return { tlsNeeded: true };
        const error = outcome.error;
        await chain.appendGrouped({
          actor: outcome.actor,
          // A failed authentication is auth.denied; a refused read keeps its own action.
          action: error?.status === 401 ? "auth.denied" : outcome.action,
          target: outcome.target,
          result: error ? (error.status < 500 && error.status !== 410 ? "denied" : "error") : "ok",
          ip: req.ip,
          user_agent: req.userAgent,
          request_id: req.requestId,
          details: error ? { code: error.code } : null,
        });
        await this.#scheduleFlush();
        if (error) throw error;
        return outcome.answer!;
      })(),
    );
  }

  /**
   * Runs a change after every change queued before it. Its statements land
   * with its audit event; a change refused before landing is audited as
   * denied or failed, and one that found nothing to do as ok (unless
   * `quiet`: the cron's runs that change nothing leave no event). Errors
   * become result objects (they do not cross RPC).
   */
  #change<T>(
    projectId: string,
    action: string,
    audit: AuditContext,
    change: (deps: ChangeDeps) => Promise<T>,
    { quiet = false }: { quiet?: boolean } = {},
  ): Promise<Result<T>> {
    const run = this.#tail.then(async () => {
      const chain = await this.#audit(projectId);
      const event: AuditInput = { ...audit, action, result: "ok" };
      let reserved = false;
      const land = async (statements: BatchItem<"sqlite">[]) => {
        const write = await chain.reserveWrite(event);
        reserved = true;
        try {
          await runBatch(this.#db, [...statements, ...write.statements]);
        } catch (error) {
          chain.abortWrite(write, "the change's batch failed");
          await this.#scheduleFlush();
          throw error;
        }
        chain.commitWrite(write);
      };
      try {
        await this.#project(projectId).take(audit.actor, 1, this.#now());
        const result = await change({
          db: this.#db,
          masterKey: keySource(this.env),
          now: this.#now,
          land,
        });
        // A change that found nothing to do (revoking what is revoked, deleting
        // a deleted version) is still one event, appended like a read's.
        if (!reserved && !quiet) {
          chain.append(event);
          await this.#scheduleFlush();
        }
        return result;
      } catch (error) {
        if (!reserved && !(error instanceof AuditUnavailable)) {
          const denied =
            error instanceof AppError && (error.status === 403 || error.status === 404);
          const code = error instanceof AppError ? error.code : "internal_error";
          chain.append({ ...event, result: denied ? "denied" : "error", details: { code } });
          await this.#scheduleFlush();
        }
        throw error;
      }
    });
    this.#tail = run.catch(() => undefined);
    // Whatever the change touched, the cached view is rebuilt from D1 on the next read.
    void run.finally(() => this.#state?.invalidate()).catch(() => undefined);
    return settle(run);
  }

  // ---- secrets ----

  putSecret(input: PutInput, audit: AuditContext) {
    return this.#change(input.projectId, "secret.write", audit, (d) => putSecret(d, input));
  }

  bulkChange(input: BulkInput, audit: AuditContext) {
    return this.#change(input.projectId, "secret.import", audit, (d) => bulkChange(d, input));
  }

  deleteSecret(input: SecretTarget & { purge: boolean }, audit: AuditContext) {
    return this.#change(input.projectId, "secret.delete", audit, (d) => deleteSecret(d, input));
  }

  restoreSecret(input: SecretTarget, audit: AuditContext) {
    return this.#change(input.projectId, "secret.restore", audit, (d) => restoreSecret(d, input));
  }

  rollbackSecret(input: SecretTarget & { version: number }, audit: AuditContext) {
    return this.#change(input.projectId, "secret.rollback", audit, (d) => rollbackSecret(d, input));
  }

  rotateSecret(input: SecretTarget & { value?: string }, audit: AuditContext) {
    return this.#change(input.projectId, "secret.rotate", audit, (d) => rotateSecret(d, input));
  }

  revokeVersion(input: SecretTarget & { version: number }, audit: AuditContext) {
    return this.#change(input.projectId, "secret.revoke", audit, (d) => revokeVersion(d, input));
  }

  // Vault KV v2's per-version lifecycle (services/version-lifecycle.ts).
  deleteVersions(input: VersionsTarget, audit: AuditContext) {
    return this.#change(input.projectId, "secret.delete", audit, (d) => deleteVersions(d, input));
  }

  undeleteVersions(input: VersionsTarget, audit: AuditContext) {
    return this.#change(input.projectId, "secret.restore", audit, (d) =>
      undeleteVersions(d, input),
    );
  }

  destroyVersions(input: VersionsTarget, audit: AuditContext) {
    return this.#change(input.projectId, "secret.destroy", audit, (d) => destroyVersions(d, input));
  }

  // ---- project and environments ----

  createProject(
    input: {
      projectId: string;
      slug: string;
      name?: string;
      settings?: ProjectSettings;
      owner: string | null;
    },
    audit: AuditContext,
  ) {
    return this.#change(input.projectId, "project.create", audit, (d) =>
      createProject(d, input, input.owner, input.projectId),
    );
  }

  updateProject(
    input: { projectId: string; name?: string; settings?: ProjectSettings },
    audit: AuditContext,
  ) {
    return this.#change(input.projectId, "project.update", audit, (d) => changeProject(d, input));
  }

  deleteProject(input: { projectId: string }, audit: AuditContext) {
    return this.#change(input.projectId, "project.delete", audit, (d) =>
      removeProject(d, input.projectId),
    );
  }

  createEnvironment(
    input: { projectId: string; slug: string; name?: string },
    audit: AuditContext,
  ) {
    return this.#change(input.projectId, "environment.create", audit, (d) =>
      addEnvironment(d, input),
    );
  }

  deleteEnvironment(
    input: { projectId: string; environment: string; force: boolean },
    audit: AuditContext,
  ) {
    return this.#change(input.projectId, "environment.delete", audit, (d) =>
      removeEnvironment(d, input),
    );
  }

  // ---- access ----

  putGrant(input: GrantInput, audit: AuditContext) {
    return this.#change(input.projectId, "member.grant", audit, (d) => putGrant(d, input));
  }

  removeGrant(
    input: { projectId: string; subjectKind: "user" | "team"; subjectId: string },
    audit: AuditContext,
  ) {
    return this.#change(input.projectId, "member.revoke", audit, (d) => removeGrant(d, input));
  }

  addRole(
    input: { projectId: string; name: string; permissions: Permission[] },
    audit: AuditContext,
  ) {
    return this.#change(input.projectId, "role.create", audit, (d) => addRole(d, input));
  }

  createToken(input: TokenInput, audit: AuditContext) {
    return this.#change(input.projectId, "token.create", audit, (d) => createToken(d, input));
  }

  revokeToken(input: { projectId: string; tokenId: string }, audit: AuditContext) {
    return this.#change(input.projectId, "token.revoke", audit, (d) =>
      revokeProjectToken(d, input),
    );
  }

  addTrust(input: TrustInput, audit: AuditContext) {
    return this.#change(input.projectId, "trust.create", audit, (d) => addTrust(d, input));
  }

  removeTrust(input: { projectId: string; trustId: string }, audit: AuditContext) {
    return this.#change(input.projectId, "trust.delete", audit, (d) => removeTrust(d, input));
  }

  /** Master-key rotation: re-wraps this project's KEKs under the active master key. */
  rewrapKeks(input: { projectId: string }) {
    return this.#change(input.projectId, "key.rewrap", SYSTEM_MASTER_KEY, async (d) => {
      const statements = await rewrapProjectKeks(d.db, d.masterKey, input.projectId);
      if (statements.length) await d.land(statements);
      this.#state?.invalidate();
      return { rewrapped: statements.length };
    });
  }

  /** Runs `job` after every change queued before it, so no write is in flight meanwhile. */
  #behindWrites<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(job);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * The cron job's work on this project: retention of deleted secrets and of
   * versions as one audited change, then audit retention (events older than
   * `audit_retention_days` deleted behind a signed checkpoint, audited as
   * `audit.prune`).
   */
  async maintain(input: { projectId: string }) {
    const maintained = await this.#change(
      input.projectId,
      "project.maintain",
      CRON,
      (d) => maintainProject(d, input.projectId),
      { quiet: true },
    );
    if (!maintained.ok) return maintained;
    return settle(
      (async () => {
        const audit = await this.#behindWrites(() => this.#pruneAudit(input.projectId));
        // Not behind the queue: each rotation is a change of its own, queued in turn.
        const rotation = await this.#rotateDue(input.projectId);
        return { ...maintained.value, audit, rotation };
      })(),
    );
  }

  /**
   * Rotates every secret of the project whose policy is due. A webhook is
   * called outside the write queue (its value then lands as a change); a
   * failure is audited as `secret.rotate` with result `error`, and the next
   * run tries again.
   */
  async #rotateDue(projectId: string) {
    const environments = await listEnvironments(this.#db, projectId);
    const rows = await rotatingSecrets(
      this.#db,
      environments.map((e) => e.id),
    );
    let rotated = 0;
    let failed = 0;
    for (const row of rows) {
      const policy = parseRotation(row.rotation);
      if (!policy || !isDue(policy, this.#now())) continue;
      const environment = environments.find((e) => e.id === row.environmentId)!;
      const audit = { ...CRON, target: `${environment.slug}/${row.key}` };
      let value: string | undefined;
      if ("webhook" in policy) {
        try {
          value = await fetchRotatedValue({
            url: policy.webhook.url,
            secret: await webhookSecret(
              { db: this.#db, masterKey: keySource(this.env) },
              projectId,
            ),
            payload: {
              project_id: projectId,
              environment: environment.slug,
              key: row.key,
              current_version: row.currentVersion,
            },
            now: this.#now,
          });
        } catch (error) {
          const details =
            error instanceof AppError ? { code: error.code, ...(error.details as object) } : null;
          (await this.#audit(projectId)).append({
            ...audit,
            action: "secret.rotate",
            result: "error",
            details,
          });
          await this.#scheduleFlush();
          failed++;
          continue;
        }
      }
      const result = await this.rotateSecret(
        { projectId, environment: environment.id, key: row.key, actor: "system:cron", value },
        audit,
      );
      if (result.ok) rotated++;
      else failed++;
    }
    return { rotated, failed };
  }

  async #pruneAudit(projectId: string) {
    const days = (await this.#project(projectId).settings())?.audit_retention_days;
    if (!days) return null;
    const chain = await this.#audit(projectId);
    const pruned = await chain.prune(new Date(this.#now() - days * DAY_MS).toISOString());
    if (!pruned) return null;
    chain.append({
      ...CRON,
      action: "audit.prune",
      result: "ok",
      details: { through_seq: pruned.through, events: pruned.events },
    });
    await this.#scheduleFlush();
    return pruned;
  }

  // ---- transit ----

  createTransitKey(input: { projectId: string; name: string }, audit: AuditContext) {
    return this.#change(input.projectId, "transit.key.create", audit, (d) =>
      createTransitKey(d, input),
    );
  }

  rotateTransitKey(input: { projectId: string; name: string }, audit: AuditContext) {
    return this.#change(input.projectId, "transit.key.rotate", audit, (d) =>
      rotateTransitKey(d, input),
    );
  }

  // ---- audit ----

  /** Records one event (a read, a denial) durably before the caller answers. */
  async record(projectId: string, event: AuditInput): Promise<Result<{ seq: number }>> {
    return settle(
      (async () => {
        const chain = await this.#audit(projectId);
        const seq = chain.append(event);
        await this.#scheduleFlush();
        return { seq };
      })(),
    );
  }

  async listAudit(projectId: string, filter: AuditFilter, limit: number) {
    return settle((await this.#audit(projectId)).list(filter, limit));
  }

  async verifyAudit(projectId: string) {
    const chain = await this.#audit(projectId);
    // Behind the write queue, so no write is in flight while the chain is read.
    return settle(this.#behindWrites(() => chain.verify()));
  }

  /** Flushes the audit chain to D1 now (what the alarm does). */
  async flushAudit(projectId: string) {
    return settle((await this.#audit(projectId)).flush());
  }

  // ---- tests ----

  setTestHooks(hooks: TestHooks): void {
    if (this.env.QALA_TEST_HOOKS !== "1") throw new Error("test hooks are not enabled");
    this.#hooks = { ...this.#hooks, ...hooks };
  }
}

/** Turns a promise into a result object; AppErrors keep their public code. */
async function settle<T>(promise: Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    if (error instanceof AppError) return { ok: false, error: error.toPublic() };
    if (error instanceof AuditUnavailable) {
      return { ok: false, error: { code: "unavailable", message: "the audit log is unavailable" } };
    }
    if (error instanceof KeyProviderError) {
      console.error("key provider", error.message);
      return {
        ok: false,
        error: { code: "unavailable", message: "the key provider is unavailable" },
      };
    }
    console.error("coordinator call failed", error instanceof Error ? error.name : "error");
    return { ok: false, error: { code: "internal_error", message: "internal error" } };
  }
}

// InstanceCoordinator (one per instance, `idFromName("instance")`): keeps the
// instance audit chain (bootstrap, logins, users, teams, server keys) the way
// a project's coordinator keeps its own, and runs the master-key re-wrap job
// on its alarm (instance keys first, then each project's KEKs through that
// project's coordinator, a page at a time, resumable).
import { checkpointSigner } from "../services/audit-checkpoints.js";
import { newId } from "../crypto/ids.js";
import { runBatch } from "../db/client.js";
import { listProjects } from "../db/projects.js";
import { coordinator } from "./coordinator-client.js";
import { rewrapInstanceKeys } from "../services/master-key.js";
import { DurableObject } from "cloudflare:workers";
import { AuditChain, AuditUnavailable, nextFlushIn } from "../audit/chain.js";
import { systemContext, type AuditInput } from "../audit/event.js";
import { openDb } from "../db/client.js";
import type { AuditFilter } from "../db/audit.js";
import type { Env } from "../env.js";
import type { Result } from "../errors.js";
import { keySource } from "../key-providers/index.js";

const FLUSH_DELAY_MS = 1000;
const PROJECTS_PER_STEP = 25;

export interface RewrapJob {
  id: string;
  state: "running" | "done";
  /** Keys re-wrapped so far (instance keys and KEKs). */
  rewrapped: number;
  projects: number;
  /** The last project slug handled; null before the first page. */
  after: string | null;
  instanceKeysDone: boolean;
  started_at: string;
  finished_at: string | null;
}

const MASTER_KEY_JOB = systemContext("master-key");
export const INSTANCE_CHAIN = "instance";

export class InstanceCoordinator extends DurableObject<Env> {
  readonly #chain: AuditChain;
  #failing = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#chain = new AuditChain({
      sql: ctx.storage.sql,
      db: openDb(env.DB),
      chain: INSTANCE_CHAIN,
      now: () => Date.now(),
      failing: () => this.#failing,
      transaction: (body) => ctx.storage.transactionSync(body),
      checkpoints: checkpointSigner({ db: openDb(env.DB), masterKey: keySource(env) }),
    });
    void ctx.blockConcurrencyWhile(() => this.#chain.repair());
  }

  /** Records an instance event durably before the caller goes on (fail-closed). */
  async record(event: AuditInput): Promise<Result<{ seq: number }>> {
    try {
      const seq = await this.#chain.appendGrouped(event);
      if ((await this.ctx.storage.getAlarm()) === null) {
        await this.ctx.storage.setAlarm(Date.now() + FLUSH_DELAY_MS);
      }
      return { ok: true, value: { seq } };
    } catch (error) {
      const unavailable = error instanceof AuditUnavailable;
      if (!unavailable)
        console.error("instance audit failed", error instanceof Error ? error.name : "error");
      return { ok: false, error: { code: "unavailable", message: "the audit log is unavailable" } };
    }
  }

  override async alarm() {
    const more = await this.#continueRewrap();
    const flushed = await this.#chain.flush();
    if (more) await this.ctx.storage.setAlarm(Date.now());
    else if (this.#chain.pending) {
      await this.ctx.storage.setAlarm(Date.now() + nextFlushIn(flushed, FLUSH_DELAY_MS));
    }
  }

  /** Starts the master-key re-wrap job (202); 409 while one runs. */
  async startRewrap(): Promise<Result<{ job: string }>> {
    const current = await this.ctx.storage.get<RewrapJob>("rewrap");
    if (current?.state === "running") {
      return { ok: false, error: { code: "conflict", message: "a master-key job is running" } };
    }
    const job: RewrapJob = {
      id: newId("job"),
      state: "running",
      rewrapped: 0,
      projects: 0,
      after: null,
      instanceKeysDone: false,
      started_at: new Date().toISOString(),
      finished_at: null,
    };
    await this.ctx.storage.put("rewrap", job);
    await this.ctx.storage.setAlarm(Date.now());
    return { ok: true, value: { job: job.id } };
  }

  async rewrapJob(): Promise<Result<RewrapJob | null>> {
    return { ok: true, value: (await this.ctx.storage.get<RewrapJob>("rewrap")) ?? null };
  }

  /** One step of the running job; true while there is more. A throw leaves it to the alarm's retry. */
  async #continueRewrap(): Promise<boolean> {
    const job = await this.ctx.storage.get<RewrapJob>("rewrap");
    if (job?.state !== "running") return false;
    const db = openDb(this.env.DB);
    const next = { ...job };
    if (!job.instanceKeysDone) {
      const statements = await rewrapInstanceKeys(db, keySource(this.env));
      await runBatch(db, statements);
      next.rewrapped += statements.length;
      next.instanceKeysDone = true;
    } else {
      const page = await listProjects(db, PROJECTS_PER_STEP, job.after ?? undefined);
      const shown = page.slice(0, PROJECTS_PER_STEP);
      for (const project of shown) {
        const result = (await coordinator(this.env, project.id).rewrapKeks({
          projectId: project.id,
        })) as Result<{ rewrapped: number }>;
        if (!result.ok) throw new Error(`re-wrapping ${project.id} failed: ${result.error.code}`);
        next.rewrapped += result.value.rewrapped;
      }
      next.projects += shown.length;
      next.after = shown.at(-1)?.slug ?? job.after;
      if (page.length <= PROJECTS_PER_STEP) {
        next.state = "done";
        next.finished_at = new Date().toISOString();
        this.#chain.append({
          ...MASTER_KEY_JOB,
          action: "master_key.rewrap",
          result: "ok",
          details: { job: job.id, rewrapped: next.rewrapped, projects: next.projects },
        });
      }
    }
    await this.ctx.storage.put("rewrap", next);
    return next.state === "running";
  }

  async list(filter: AuditFilter, limit: number) {
    return { ok: true as const, value: await this.#chain.list(filter, limit) };
  }

  async verify() {
    return { ok: true as const, value: await this.#chain.verify() };
  }

  async flush() {
    return { ok: true as const, value: await this.#chain.flush() };
  }

  setTestHooks(hooks: { failAudit?: boolean }): void {
    if (this.env.QALA_TEST_HOOKS !== "1") throw new Error("test hooks are not enabled");
    this.#failing = hooks.failAudit ?? this.#failing;
  }
}

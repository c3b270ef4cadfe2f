// InstanceCoordinator (one per instance, `idFromName("instance")`): keeps the
// instance audit chain (bootstrap, logins, users, teams, server keys) the way
// a project's coordinator keeps its own.
import { checkpointSigner } from "../services/audit-checkpoints.js";
import { DurableObject } from "cloudflare:workers";
import { AuditChain, AuditUnavailable } from "../audit/chain.js";
import type { AuditInput } from "../audit/event.js";
import { openDb } from "../db/client.js";
import type { AuditFilter } from "../db/audit.js";
import type { Env } from "../env.js";
import type { Result } from "../errors.js";

const FLUSH_DELAY_MS = 1000;
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
      checkpoints: checkpointSigner({ db: openDb(env.DB), masterKey: env.QALA_MASTER_KEY }),
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
    await this.#chain.flush();
    if (this.#chain.pending) await this.ctx.storage.setAlarm(Date.now() + FLUSH_DELAY_MS);
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

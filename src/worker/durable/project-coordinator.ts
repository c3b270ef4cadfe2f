// ProjectCoordinator: one per project, the only writer of the project's
// secrets and environments. Changes run one at a time (a promise chain: D1
// calls do not close the input gate, so the object's own serialisation is
// what makes version numbers and check-and-set decisions safe).
import { DurableObject } from "cloudflare:workers";
import type { ProjectSettings } from "../../contract/index.js";
import { openDb } from "../db/client.js";
import type { Env } from "../env.js";
import { AppError, type Result } from "../errors.js";
import {
  addEnvironment,
  changeProject,
  removeEnvironment,
  removeProject,
  type ProjectDeps,
} from "../services/projects.js";
import {
  bulkChange,
  deleteSecret,
  putSecret,
  restoreSecret,
  revokeVersion,
  rollbackSecret,
  type BulkInput,
  type PutInput,
  type SecretTarget,
} from "../services/secret-writes.js";

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
import type { Permission } from "../../contract/index.js";

export class ProjectCoordinator extends DurableObject<Env> {
  #tail: Promise<unknown> = Promise.resolve();
  readonly #deps: ProjectDeps;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#deps = { db: openDb(env.DB), masterKey: env.QALA_MASTER_KEY, now: () => Date.now() };
  }

  /** Runs `change` after every change queued before it; errors become result objects. */
  #serial<T>(change: () => Promise<T>): Promise<Result<T>> {
    const run = this.#tail.then(change);
    this.#tail = run.catch(() => undefined);
    return run.then(
      (value): Result<T> => ({ ok: true, value }),
      (error: unknown): Result<T> => {
        if (error instanceof AppError) return { ok: false, error: error.toPublic() };
        console.error("coordinator change failed", error instanceof Error ? error.name : "error");
        return { ok: false, error: { code: "internal_error", message: "internal error" } };
      },
    );
  }

  putSecret(input: PutInput) {
    return this.#serial(() => putSecret(this.#deps, input));
  }

  bulkChange(input: BulkInput) {
    return this.#serial(() => bulkChange(this.#deps, input));
  }

  deleteSecret(input: SecretTarget & { purge: boolean }) {
    return this.#serial(() => deleteSecret(this.#deps, input));
  }

  restoreSecret(input: SecretTarget) {
    return this.#serial(() => restoreSecret(this.#deps, input));
  }

  rollbackSecret(input: SecretTarget & { version: number }) {
    return this.#serial(() => rollbackSecret(this.#deps, input));
  }

  revokeVersion(input: SecretTarget & { version: number }) {
    return this.#serial(() => revokeVersion(this.#deps, input));
  }

  updateProject(input: { projectId: string; name?: string; settings?: ProjectSettings }) {
    return this.#serial(() => changeProject(this.#deps, input));
  }

  deleteProject(input: { projectId: string }) {
    return this.#serial(() => removeProject(this.#deps, input.projectId));
  }

  createEnvironment(input: { projectId: string; slug: string; name?: string }) {
    return this.#serial(() => addEnvironment(this.#deps, input));
  }

  deleteEnvironment(input: { projectId: string; environment: string; force: boolean }) {
    return this.#serial(() => removeEnvironment(this.#deps, input));
  }

  putGrant(input: GrantInput) {
    return this.#serial(() => putGrant(this.#deps, input));
  }

  removeGrant(input: { projectId: string; subjectKind: "user" | "team"; subjectId: string }) {
    return this.#serial(() => removeGrant(this.#deps, input));
  }

  addRole(input: { projectId: string; name: string; permissions: Permission[] }) {
    return this.#serial(() => addRole(this.#deps, input));
  }

  createToken(input: TokenInput) {
    return this.#serial(() => createToken(this.#deps, input));
  }

  revokeToken(input: { projectId: string; tokenId: string }) {
    return this.#serial(() => revokeProjectToken(this.#deps, input));
  }

  addTrust(input: TrustInput) {
    return this.#serial(() => addTrust(this.#deps, input));
  }

  removeTrust(input: { projectId: string; trustId: string }) {
    return this.#serial(() => removeTrust(this.#deps, input));
  }
}

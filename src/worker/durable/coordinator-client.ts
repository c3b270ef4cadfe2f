// Typed access to a project's coordinator from the Worker.
import type { Env } from "../env.js";
import { probedStub } from "../test-probe.js";
import { AppError, type PublicError } from "../errors.js";

/** The coordinator of a project, addressed by the project's id (ids never change). */
export function coordinator(env: Env, projectId: string) {
  return probedStub(env.PROJECT_COORDINATOR.get(env.PROJECT_COORDINATOR.idFromName(projectId)));
}

type Settled<R> = R extends { ok: true; value: infer V } ? V : never;

/** Awaits a coordinator call and turns its failure result into an AppError. */
export async function settle<R extends { ok: boolean }>(call: Promise<R>): Promise<Settled<R>> {
  const result = (await call) as unknown as
    { ok: true; value: Settled<R> } | { ok: false; error: PublicError };
  if (!result.ok) throw AppError.from(result.error);
  return result.value;
}

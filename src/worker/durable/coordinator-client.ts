// Typed access to a project's coordinator from the Worker.
import type { Env } from "../env.js";
import { probedStub } from "../test-probe.js";
import { AppError, type PublicError } from "../errors.js";

const ids = new Map<string, DurableObjectId>();

/** The coordinator of a project, addressed by the project's id (ids never change). */
export function coordinator(env: Env, projectId: string) {
  let id = ids.get(projectId);
  if (!id) {
    if (ids.size >= 10_000) ids.delete(ids.keys().next().value!);
    id = env.PROJECT_COORDINATOR.idFromName(projectId);
    ids.set(projectId, id);
  }
  return probedStub(env.PROJECT_COORDINATOR.get(id));
}

type Settled<R> = R extends { ok: true; value: infer V } ? V : never;

/** Awaits a coordinator call and turns its failure result into an AppError. */
export async function settle<R extends { ok: boolean }>(call: Promise<R>): Promise<Settled<R>> {
  const result = (await call) as unknown as
    { ok: true; value: Settled<R> } | { ok: false; error: PublicError };
  if (!result.ok) throw AppError.from(result.error);
  return result.value;
}

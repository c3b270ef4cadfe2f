// Records instance-level actions in the InstanceCoordinator's chain. Recorded
// before the action's answer goes out; when the chain cannot take the event
// the request fails with 503 (fail-closed).
import type { AuditInput } from "../audit/event.js";
import type { Env } from "../env.js";
import { AppError, unwrapResult, type Result } from "../errors.js";

export const instanceCoordinator = (env: Env) =>
  env.INSTANCE_COORDINATOR.get(env.INSTANCE_COORDINATOR.idFromName("instance"));

export async function recordInstanceEvent(env: Env, event: AuditInput): Promise<void> {
  const result = (await instanceCoordinator(env).record(event)) as Result<{ seq: number }>;
  if (!result.ok) throw new AppError("unavailable", "the audit log is unavailable");
  unwrapResult(result);
}

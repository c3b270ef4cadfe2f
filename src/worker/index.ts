// Worker entry: the HTTP app, the RPC entrypoint and the Durable Object classes.
import { createApp } from "./app.js";
import { openDb } from "./db/client.js";
import { listProjects } from "./db/projects.js";
import { coordinator } from "./durable/coordinator-client.js";
import { newId } from "./crypto/ids.js";
import { errorEnvelope } from "./error-envelope.js";
import { AppError } from "./errors.js";
import { openRequest, sealResponse } from "./payload-encryption.js";
import type { Env } from "./env.js";
import { secretsEntrypoint } from "./rpc/secrets-entrypoint.js";

export { AuthThrottle } from "./durable/auth-throttle.js";
export { InstanceCoordinator } from "./durable/instance-coordinator.js";
export { ProjectCoordinator } from "./durable/project-coordinator.js";

const app = createApp();

/** Service-binding RPC: getSecret / getEnvironment through the same app. */
export const SecretsEntrypoint = secretsEntrypoint(async (request, env, ctx) =>
  app.fetch(request, env, ctx),
);

export default {
  async fetch(request, env, ctx) {
    let opened: Request;
    try {
      opened = await openRequest(request, env);
    } catch (error) {
      return errorResponse(error);
    }
    return sealResponse(request, await app.fetch(opened, env, ctx));
  },
  /** The cron trigger: each project's coordinator runs retention and version pruning. */
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(maintainAll(env));
  },
} satisfies ExportedHandler<Env>;

export async function maintainAll(env: Env): Promise<void> {
  const db = openDb(env.DB);
  for (let after: string | undefined; ;) {
    const page = await listProjects(db, 100, after);
    const shown = page.slice(0, 100);
    await Promise.all(shown.map((p) => coordinator(env, p.id).maintain({ projectId: p.id })));
    if (page.length <= 100) return;
    after = shown.at(-1)!.slug;
  }
}

/** An error raised before the app runs (an undecryptable body), in the API's envelope. */
function errorResponse(error: unknown): Response {
  const known =
    error instanceof AppError ? error : new AppError("internal_error", "internal error");
  const requestId = newId("req");
  const { status, body, headers } = errorEnvelope(known, requestId);

  return Response.json(body, { status, headers: { ...headers, "X-Request-Id": requestId } });
}

// Service-binding RPC (API.md "Service-binding RPC"): another Worker bound to
// Qalá with `entrypoint = "SecretsEntrypoint"` calls getSecret/getEnvironment
// with no network hop. Each call is the HTTP read it stands for, run through
// the same app (authentication, the coordinator's one-call read, rate limits,
// audit), and answers a result object; nothing throws across the binding.
// A binding has no client address and no client certificate, so tokens bound
// to either (and projects with an IP allowlist) are refused, fail-closed.
import { WorkerEntrypoint } from "cloudflare:workers";
import { z } from "zod";
import { SecretKeySchema } from "../../contract/index.js";
import type { Env } from "../env.js";

/** What answers HTTP: the Worker's app, without the payload-encryption wrapper. */
export type Handler = (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response>;

export type RpcFailure = { ok: false; error: { code: string; message: string } };
export type GetSecretResult =
  { ok: true; key: string; value: string; version: number } | RpcFailure;
export type GetEnvironmentResult =
  { ok: true; secrets: Record<string, string>; etag: string; skipped: string[] } | RpcFailure;

const Ref = z.string().min(1).max(100);
const EnvironmentInput = z.strictObject({
  token: z.string().min(1).max(4096),
  project: Ref,
  environment: Ref,
});
const SecretInput = EnvironmentInput.extend({
  key: SecretKeySchema,
  version: z.number().int().min(1).optional(),
});

const ORIGIN = "https://qala.binding";
const enc = encodeURIComponent;

function invalid(error: z.ZodError): RpcFailure {
  const issue = error.issues[0];
  const where = issue?.path.join(".") || "input";
  return {
    ok: false,
    error: { code: "validation_failed", message: `${where}: ${issue?.message}` },
  };
}

async function failure(response: Response): Promise<RpcFailure> {
  const body = (await response.json().catch(() => null)) as {
    error?: { code?: string; message?: string };
  } | null;
  const code = body?.error?.code ?? "internal_error";
  let message = body?.error?.message ?? `answered ${response.status}`;
  if (code === "unauthorized" || code === "forbidden") message += BINDING_HINT;
  return { ok: false, error: { code, message } };
}

const BINDING_HINT =
  " (a service binding has no client address or certificate: tokens bound to either, and projects with an IP allowlist, are refused here)";

/** The entrypoint class for a given handler (index.ts passes the app). */
export function secretsEntrypoint(handle: Handler) {
  return class SecretsEntrypoint extends WorkerEntrypoint<Env> {
    async #get(path: string, token: string): Promise<Response> {
      // Built here, so nothing of the caller's reaches it but the token: no
      // CF-Connecting-IP, no request.cf, no payload-encryption headers.
      const request = new Request(`${ORIGIN}${path}`, {
        headers: { Authorization: `Bearer ${token}`, "User-Agent": "qala-service-binding" },
      });
      return handle(request, this.env, this.ctx);
    }

    async getSecret(input: z.input<typeof SecretInput>): Promise<GetSecretResult> {
      const parsed = SecretInput.safeParse(input);
      if (!parsed.success) return invalid(parsed.error);
      const { token, project, environment, key, version } = parsed.data;
      try {
        const response = await this.#get(
          `/v1/projects/${enc(project)}/environments/${enc(environment)}/secrets/${enc(key)}` +
            (version === undefined ? "" : `?version=${version}`),
          token,
        );
        if (!response.ok) return failure(response);
        const body = (await response.json()) as { key: string; value: string; version: number };
        return { ok: true, key: body.key, value: body.value, version: body.version };
      } catch {
        return { ok: false, error: { code: "internal_error", message: "internal error" } };
      }
    }

    async getEnvironment(input: z.input<typeof EnvironmentInput>): Promise<GetEnvironmentResult> {
      const parsed = EnvironmentInput.safeParse(input);
      if (!parsed.success) return invalid(parsed.error);
      const { token, project, environment } = parsed.data;
      try {
        const response = await this.#get(
          `/v1/projects/${enc(project)}/environments/${enc(environment)}/export?format=json`,
          token,
        );
        if (!response.ok) return failure(response);
        const skipped = response.headers.get("Qala-Skipped-Keys");
        return {
          ok: true,
          secrets: (await response.json()) as Record<string, string>,
          etag: response.headers.get("ETag") ?? "",
          skipped: skipped ? skipped.split(",") : [],
        };
      } catch {
        return { ok: false, error: { code: "internal_error", message: "internal error" } };
      }
    }
  };
}

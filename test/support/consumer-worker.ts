// A Worker that consumes Qalá through service bindings, for the Node test of
// the RPC entrypoint: QALA is bound to `SecretsEntrypoint`, QALA_HTTP to
// Qalá's fetch handler (for the SDK's `fetcher`). Bundled by the test with esbuild.
import { createClient } from "../../src/sdk/index.js";

interface Input {
  token: string;
  project: string;
  environment: string;
  key?: string;
  version?: number;
}

interface Env {
  QALA: {
    getSecret(input: Input): Promise<unknown>;
    getEnvironment(input: Input): Promise<unknown>;
  };
  QALA_HTTP: { fetch(request: Request): Promise<Response> };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const input = (await request.json()) as Input;
    const path = new URL(request.url).pathname;
    if (path === "/rpc/secret") return Response.json(await env.QALA.getSecret(input));
    if (path === "/rpc/environment") return Response.json(await env.QALA.getEnvironment(input));
    const client = createClient({ fetcher: env.QALA_HTTP, token: input.token });
    try {
      if (path === "/sdk/secret") {
        const secret = await client.secrets.get(input.project, input.environment, input.key!);
        return Response.json({ ok: true, value: secret.value, version: secret.version });
      }
      if (path === "/sdk/environment") {
        const { secrets } = await client.getEnvironment(input.project, input.environment);
        return Response.json({ ok: true, secrets });
      }
    } catch (error) {
      const { status, code } = error as { status?: number; code?: string };
      return Response.json({ ok: false, status, code });
    }
    return new Response("not found", { status: 404 });
  },
};

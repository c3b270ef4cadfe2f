// A small JSON caller for Node tests that host the Worker themselves (more
// than one host, or hosts restarted on a persisted store), and their bootstrap.
import { expect } from "vitest";

export type Call = (
  method: string,
  path: string,
  options?: { body?: unknown; token?: string; vaultToken?: string },
) => Promise<{ status: number; body: any }>;

export const caller =
  (origin: string): Call =>
  async (method, path, { body, token, vaultToken } = {}) => {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers: {
        ...(body ? { "Content-Type": "application/json" } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(vaultToken ? { "X-Vault-Token": vaultToken } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

/** Bootstraps a hosted Worker (scripts/worker-host.mjs); the first admin's API token. */
export async function bootstrap(call: Call, email: string, password: string): Promise<string> {
  const boot = await call("POST", "/v1/bootstrap", {
    body: { bootstrap_token: "host-bootstrap", email, password },
  });
  expect(boot.status).toBe(201);
  return boot.body.api_token as string;
}

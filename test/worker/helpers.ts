// Helpers for integration tests: requests against the Worker and a bootstrapped admin.
import { SELF } from "cloudflare:test";
import { expect } from "vitest";

export const ORIGIN = "https://qala.test";
export const BOOTSTRAP_TOKEN = "test-bootstrap-token";

let adminToken: Promise<string> | undefined;

/** The instance-admin token of this test file's instance (bootstrapped on first use). */
export function admin(): Promise<string> {
  adminToken ??= (async () => {
    const res = await SELF.fetch(`${ORIGIN}/v1/bootstrap`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        bootstrap_token: BOOTSTRAP_TOKEN,
        email: "admin@example.com",
        password: "correct horse battery staple",
      }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { api_token: string }).api_token;
  })();
  return adminToken;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  token?: string | null;
  raw?: string;
}

/** Calls the API as the admin (or `token`), with a JSON body. */
export async function api(method: string, path: string, options: CallOptions = {}) {
  const token = options.token === undefined ? await admin() : options.token;
  const headers: Record<string, string> = { ...options.headers };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] ??= "application/json";
  }
  return SELF.fetch(`${ORIGIN}${path}`, { method, headers, body });
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

let counter = 0;
/** Creates a project with a unique slug; returns its slug. */
export async function newProject(prefix = "p"): Promise<string> {
  const slug = `${prefix}-${Date.now().toString(36)}-${counter++}`;
  const res = await api("POST", "/v1/projects", { body: { slug } });
  expect(res.status).toBe(201);
  return slug;
}

export const secretsPath = (project: string, env = "development") =>
  `/v1/projects/${project}/environments/${env}/secrets`;

/** Asserts the error envelope of API.md. */
export async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = await json(res);
  expect(body).toMatchObject({ error: { code, message: expect.any(String) } });
  expect(body.error.request_id).toBe(res.headers.get("X-Request-Id"));
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return body;
}

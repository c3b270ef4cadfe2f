// Helpers for integration tests: requests against the Worker and a bootstrapped admin.
import {
  createExecutionContext,
  createScheduledController,
  env,
  SELF,
  waitOnExecutionContext,
} from "cloudflare:test";
import { expect } from "vitest";
import worker from "../../src/worker/index.js";

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

const PASSWORD = "a long enough password";

/** Creates a user (as the admin) and logs in; returns its id and access token. */
export async function newUser(
  prefix = "user",
  instanceRole: "member" | "admin" = "member",
): Promise<{ id: string; email: string; token: string; refresh: string }> {
  const email = `${prefix}-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const created = await api("POST", "/v1/users", {
    body: { email, password: PASSWORD, instance_role: instanceRole },
  });
  expect(created.status).toBe(201);
  const { id } = await json(created);
  const session = await login(email, PASSWORD);
  return { id, email, token: session.access_token, refresh: session.refresh_token };
}

export async function login(email: string, password = PASSWORD) {
  const res = await api("POST", "/v1/auth/login", { token: null, body: { email, password } });
  expect(res.status).toBe(200);
  return json<{ access_token: string; refresh_token: string }>(res);
}

/** Grants `role` on `project` to a user or team id. */
export async function grant(project: string, subject: string, role: string, extra = {}) {
  const res = await api("PUT", `/v1/projects/${project}/members/${subject}`, {
    body: { role, ...extra },
  });
  expect(res.status).toBe(200);
  return json(res);
}

/** Creates a project token; returns the token string and its id. */
export async function projectToken(project: string, body: Record<string, unknown>) {
  const res = await api("POST", `/v1/projects/${project}/tokens`, {
    body: { name: "ci", ...body },
  });
  expect(res.status).toBe(201);
  return json<{ id: string; token: string }>(res);
}

/** The project's coordinator, for test hooks (moving its clock, failing its audit). */
export async function coordinatorOf(project: string) {
  const { id } = await json(await api("GET", `/v1/projects/${project}`));
  return env.PROJECT_COORDINATOR.get(env.PROJECT_COORDINATOR.idFromName(id));
}

/** Runs the Worker's cron trigger (`scheduled`) to completion. */
export async function cron() {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ cron: "*/15 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

// The one-call read path, counted through the test probe, and the coherence of
// the coordinator's cache. The probe is installed before any request, so the
// Durable Object built in this file counts its D1 statements too.
import { describe, expect, it } from "vitest";
import type { Probe } from "../../../src/worker/test-probe.js";
import {
  api,
  coordinatorOf,
  expectError,
  grant,
  json,
  newProject,
  newUser,
  projectToken,
  secretsPath,
} from "../helpers.js";

const probe: Probe = { d1: 0, coordinatorCalls: 0 };
(globalThis as { __QALA_PROBE__?: Probe }).__QALA_PROBE__ = probe;

function counted() {
  probe.d1 = 0;
  probe.coordinatorCalls = 0;
  return probe;
}

async function seeded() {
  const project = await newProject("one");
  await api("PATCH", secretsPath(project), { body: { set: { A: "a", B: "b", C: "c" } } });
  return { project, token: (await projectToken(project, { role: "developer" })).token };
}

describe("one-call reads", () => {
  it.each([
    ["a single secret", (p: string) => `${secretsPath(p)}/A`],
    ["the environment with values", (p: string) => `${secretsPath(p)}?values=true`],
    ["an export", (p: string) => `/v1/projects/${p}/environments/development/export?format=json`],
  ])("reads %s with one coordinator call and no D1 query once warm", async (_, path) => {
    const { project, token } = await seeded();
    const cold = counted();
    expect((await api("GET", path(project), { token })).status).toBe(200); // warms the caches
    expect(cold.d1).toBeGreaterThan(0); // the probe sees the cold read's queries
    const p = counted();
    const res = await api("GET", path(project), { token });
    expect(res.status).toBe(200);
    expect(p).toEqual({ d1: 0, coordinatorCalls: 1 });
  });

  it("answers a 304 revalidation with one call and no D1 query", async () => {
    const { project, token } = await seeded();
    const first = await api("GET", `${secretsPath(project)}?values=true`, { token });
    const p = counted();
    const again = await api("GET", `${secretsPath(project)}?values=true`, {
      token,
      headers: { "If-None-Match": first.headers.get("ETag")! },
    });
    expect(again.status).toBe(304);
    expect(p).toEqual({ d1: 0, coordinatorCalls: 1 });
  });
});

describe("cache coherence", () => {
  it("shows each change on the very next read: a write, a revoked token, a grant, a deleted secret", async () => {
    const { project, token } = await seeded();
    const read = (t = token) => api("GET", `${secretsPath(project)}/A`, { token: t });
    expect(await json(await read())).toMatchObject({ value: "a", version: 1 });

    await api("PUT", `${secretsPath(project)}/A`, { body: { value: "a2" } });
    expect(await json(await read())).toMatchObject({ value: "a2", version: 2 });

    const other = await projectToken(project, { role: "viewer" });
    expect((await api("GET", secretsPath(project), { token: other.token })).status).toBe(200);
    await api("DELETE", `/v1/projects/${project}/tokens/${other.id}`);
    await expectError(
      await api("GET", secretsPath(project), { token: other.token }),
      401,
      "unauthorized",
    );

    const user = await newUser("coherent");
    await grant(project, user.id, "viewer");
    await expectError(await read(user.token), 403, "forbidden");
    await grant(project, user.id, "developer");
    expect((await read(user.token)).status).toBe(200);

    await api("DELETE", `${secretsPath(project)}/A`);
    await expectError(await read(), 404, "not_found");
    const list = await json(await api("GET", `${secretsPath(project)}?values=true`, { token }));
    expect(list.items.map((i: any) => i.key)).toEqual(["B", "C"]);
  });
});

describe("rate limits", () => {
  it("answers a burst over the limit with 429 and Retry-After, and refills", async () => {
    const project = await newProject("rl");
    await api("PATCH", `/v1/projects/${project}`, {
      body: { settings: { rate_limit: { requests_per_second: 1, burst: 3 } } },
    });
    await api("PUT", `${secretsPath(project)}/A`, { body: { value: "a" } });
    const { token } = await projectToken(project, { role: "developer" });
    const read = () => api("GET", `${secretsPath(project)}/A`, { token });
    for (let i = 0; i < 3; i++) expect((await read()).status).toBe(200);
    const limited = await read();
    await expectError(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    // Two seconds later (the coordinator's clock moves), two tokens are back.
    await (await coordinatorOf(project)).setTestHooks({ clockOffsetMs: 2000 });
    expect((await read()).status).toBe(200);
    expect((await read()).status).toBe(200);
    expect((await read()).status).toBe(429);
  });

  it("charges a 304 revalidation a quarter of a read", async () => {
    const project = await newProject("rl");
    await api("PATCH", `/v1/projects/${project}`, {
      body: { settings: { rate_limit: { requests_per_second: 0.001, burst: 2 } } },
    });
    const { token } = await projectToken(project, { role: "developer" });
    const first = await api("GET", secretsPath(project), { token }); // costs 1
    const etag = first.headers.get("ETag")!;
    const revalidate = () =>
      api("GET", secretsPath(project), { token, headers: { "If-None-Match": etag } });
    for (let i = 0; i < 4; i++) expect((await revalidate()).status).toBe(304); // 4 × 0.25
    await expectError(await revalidate(), 429, "rate_limited");
  });

  it("refuses a malformed rate_limit setting", async () => {
    const project = await newProject("rl");
    await expectError(
      await api("PATCH", `/v1/projects/${project}`, {
        body: { settings: { rate_limit: { burst: 0 } } },
      }),
      422,
      "validation_failed",
    );
  });
});

describe("job locks", () => {
  it("refuses a second job with 409 while one runs, and frees a crashed job's lease when it expires", async () => {
    const project = await newProject("lock");
    const stub = await coordinatorOf(project);
    const first = await stub.acquireLock({ job: "import", holder: "job-1", ttlMs: 30_000 });
    expect(first).toMatchObject({ ok: true });
    const second = await stub.acquireLock({ job: "import", holder: "job-2", ttlMs: 30_000 });
    expect(second).toMatchObject({ ok: false, error: { code: "conflict" } });
    // Another kind of job is not blocked.
    expect(
      await stub.acquireLock({ job: "key-rotation", holder: "job-3", ttlMs: 30_000 }),
    ).toMatchObject({ ok: true });
    // job-1 crashes (never releases); half a minute later its lease has run out.
    await stub.setTestHooks({ clockOffsetMs: 31_000 });
    expect(await stub.acquireLock({ job: "import", holder: "job-2", ttlMs: 30_000 })).toMatchObject(
      { ok: true },
    );
    expect(await stub.releaseLock({ job: "import", holder: "job-1" })).toMatchObject({
      value: { released: false },
    });
    expect(await stub.releaseLock({ job: "import", holder: "job-2" })).toMatchObject({
      value: { released: true },
    });
  });
});

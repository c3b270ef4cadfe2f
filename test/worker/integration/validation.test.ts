import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, json, newProject, secretsPath } from "../helpers.js";

/** A fingerprint of everything stored: every row of every table. */
async function snapshot(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT IN ('d1_migrations', 'audit_events') ORDER BY name",
  ).all<{ name: string }>();
  const dump: Record<string, unknown> = {};
  for (const { name } of tables.results) {
    dump[name] = (await env.DB.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()).results;
  }
  return JSON.stringify(dump);
}

async function unchangedAfter(call: () => Promise<Response>, status: number, code: string) {
  const before = await snapshot();
  const body = await expectError(await call(), status, code);
  expect(await snapshot()).toBe(before);
  return body;
}

describe("bad input gets a clear error and changes nothing", () => {
  it("answers 400 to malformed JSON", async () => {
    const project = await newProject();
    await unchangedAfter(
      () =>
        api("PUT", `${secretsPath(project)}/K`, {
          raw: '{"value": "unterminated',
          headers: { "Content-Type": "application/json" },
        }),
      400,
      "bad_request",
    );
    await unchangedAfter(
      () =>
        api("POST", "/v1/projects", {
          raw: "{not json",
          headers: { "Content-Type": "application/json" },
        }),
      400,
      "bad_request",
    );
  });

  it("answers 415 to a body that is not JSON", async () => {
    const project = await newProject();
    await unchangedAfter(
      () =>
        api("PUT", `${secretsPath(project)}/K`, {
          raw: "value=x",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
        }),
      415,
      "unsupported_media_type",
    );
  });

  it("answers 422 with details to wrong types and unknown fields", async () => {
    const project = await newProject();
    const cases: unknown[] = [
      { value: 42 },
      { value: "x", tags: "not-a-list" },
      { value: "x", generate: { length: 8 } },
      {},
      { generate: { length: 0 } },
      { generate: { length: 4097 } },
      { generate: { charset: "emoji" } },
      { value: "x", surprise: true },
      { value: "\ud800" },
      { value: "x", rotation: { interval_days: 0, generate: {} } },
      { value: "x", rotation: { interval_days: 30 } },
      { value: "x", rotation: { interval_days: 30, webhook: { url: "http://example.com/hook" } } },
    ];
    for (const body of cases) {
      const res = await unchangedAfter(
        () => api("PUT", `${secretsPath(project)}/K`, { body }),
        422,
        "validation_failed",
      );
      expect(res.error.details).toEqual(expect.any(Array));
    }
  });

  it("answers 422 to bad slugs and secret keys", async () => {
    const project = await newProject();
    for (const slug of ["UPPER", "-dash-first", "has space", "a".repeat(64), "", "under_score"]) {
      await unchangedAfter(
        () => api("POST", "/v1/projects", { body: { slug } }),
        422,
        "validation_failed",
      );
    }
    await unchangedAfter(
      () => api("POST", `/v1/projects/${project}/environments`, { body: { slug: "Prod!" } }),
      422,
      "validation_failed",
    );
    for (const key of ["1STARTS_WITH_DIGIT", "has%20space", "dollar$", "K".repeat(257)]) {
      await unchangedAfter(
        () => api("PUT", `${secretsPath(project)}/${key}`, { body: { value: "x" } }),
        422,
        "validation_failed",
      );
    }
    await unchangedAfter(
      () => api("PATCH", secretsPath(project), { body: { set: { "bad key": "x" } } }),
      422,
      "validation_failed",
    );
  });

  it("answers 413 to a value over 64 KiB, and accepts exactly 64 KiB", async () => {
    const project = await newProject();
    await unchangedAfter(
      () => api("PUT", `${secretsPath(project)}/BIG`, { body: { value: "x".repeat(65_537) } }),
      413,
      "payload_too_large",
    );
    await unchangedAfter(
      () => api("PUT", `${secretsPath(project)}/BIG`, { body: { value: "é".repeat(32_769) } }),
      413,
      "payload_too_large",
    );
    await unchangedAfter(
      () => api("PATCH", secretsPath(project), { body: { set: { BIG: "x".repeat(65_537) } } }),
      413,
      "payload_too_large",
    );
    const exact = "x".repeat(65_536);
    expect(
      (await api("PUT", `${secretsPath(project)}/BIG`, { body: { value: exact } })).status,
    ).toBe(201);
    expect((await json(await api("GET", `${secretsPath(project)}/BIG`))).value).toBe(exact);
  });

  it("answers 404 to unknown projects, environments and secrets", async () => {
    const project = await newProject();
    await unchangedAfter(() => api("GET", secretsPath("no-such-project")), 404, "not_found");
    await unchangedAfter(() => api("GET", secretsPath(project, "nope")), 404, "not_found");
    await unchangedAfter(() => api("GET", `${secretsPath(project)}/MISSING`), 404, "not_found");
    await unchangedAfter(
      () => api("PUT", `${secretsPath("no-such-project")}/K`, { body: { value: "x" } }),
      404,
      "not_found",
    );
    await unchangedAfter(
      () => api("PUT", `${secretsPath(project, "nope")}/K`, { body: { value: "x" } }),
      404,
      "not_found",
    );
    await unchangedAfter(() => api("DELETE", `${secretsPath(project)}/MISSING`), 404, "not_found");
    await unchangedAfter(() => api("GET", "/v1/projects/prj_unknown"), 404, "not_found");
    await unchangedAfter(() => api("GET", "/v1/nothing-here"), 404, "not_found");
  });

  it("answers 409 to duplicate slugs", async () => {
    const project = await newProject();
    await unchangedAfter(
      () => api("POST", "/v1/projects", { body: { slug: project } }),
      409,
      "conflict",
    );
    await unchangedAfter(
      () => api("POST", `/v1/projects/${project}/environments`, { body: { slug: "staging" } }),
      409,
      "conflict",
    );
  });

  it("answers 422 to a bad cursor or limit", async () => {
    const project = await newProject();
    await unchangedAfter(
      () => api("GET", `${secretsPath(project)}?cursor=not-a-cursor`),
      422,
      "validation_failed",
    );
    await unchangedAfter(
      () => api("GET", `${secretsPath(project)}?limit=1001`),
      422,
      "validation_failed",
    );
  });
});

describe("request size limits", () => {
  it("answers 413 to a request body over 1 MiB before parsing it", async () => {
    const project = await newProject();
    await unchangedAfter(
      () =>
        api("PUT", `${secretsPath(project)}/K`, {
          raw: JSON.stringify({ value: "x", note: "n".repeat(1024 * 1024) }),
          headers: { "Content-Type": "application/json" },
        }),
      413,
      "payload_too_large",
    );
  });
});

// The service-binding entrypoint: a second Worker bound to Qalá (RPC to
// SecretsEntrypoint, and the SDK's `fetcher` over a plain service binding),
// both hosted by Miniflare beside the built Qalá Worker.
import { build } from "esbuild";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostWorker, root } from "../../../scripts/worker-host.mjs";
import { bootstrap, caller } from "../../support/http-call.js";
import { createClient, type QalaClient } from "../../../src/sdk/index.js";

const OUT_DIR = ".build/test-host"; // built by the Node global setup
let host: Awaited<ReturnType<typeof hostWorker>>;
let admin: QalaClient;
let token = "";
const PROJECT = "bound";
const SECRETS = { DB_URL: "postgres://bound", API_KEY: "sk-bound", PEM: "line 1\nline 2" };

type Result = { ok: boolean; error?: { code: string; message: string }; [k: string]: unknown };
async function consumer(path: string, input: Record<string, unknown>): Promise<Result> {
  const worker = await host.getWorker("consumer");
  const res = await worker.fetch(`http://consumer${path}`, {
    method: "POST",
    body: JSON.stringify(input),
  });
  return (await res.json()) as Result;
}
const base = () => ({ token, project: PROJECT, environment: "production" });

beforeAll(async () => {
  // Inside the project: Miniflare resolves module paths from its root.
  const script = join(root, ".build/consumer/consumer.js");
  await build({
    entryPoints: [join(root, "test/support/consumer-worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    outfile: script,
    logLevel: "warning",
  });
  host = await hostWorker({
    outDir: OUT_DIR,
    companions: [
      {
        name: "consumer",
        modules: true,
        scriptPath: script,
        compatibilityDate: "2026-11-01",
        serviceBindings: {
          QALA: { name: "qala", entrypoint: "SecretsEntrypoint" },
          QALA_HTTP: "qala",
        },
      },
    ],
  });
  const api_token = await bootstrap(
    caller(host.origin),
    "binding@example.com",
    "service binding test",
  );
  admin = createClient({ url: host.origin, token: api_token });
  await admin.projects.create({ slug: PROJECT });
  await admin.secrets.bulk(PROJECT, "production", { set: SECRETS });
  token = (await admin.tokens.create(PROJECT, { name: "worker", role: "admin" })).token;
}, 60_000);

afterAll(async () => {
  await host?.dispose();
});

describe("SecretsEntrypoint over a service binding", () => {
  it("answers getSecret and getEnvironment with result objects", async () => {
    expect(await consumer("/rpc/secret", { ...base(), key: "DB_URL" })).toEqual({
      ok: true,
      key: "DB_URL",
      value: "postgres://bound",
      version: 1,
    });
    await admin.secrets.set(PROJECT, "production", "DB_URL", { value: "postgres://v2" });
    expect(await consumer("/rpc/secret", { ...base(), key: "DB_URL" })).toMatchObject({
      value: "postgres://v2",
      version: 2,
    });
    expect(await consumer("/rpc/secret", { ...base(), key: "DB_URL", version: 1 })).toMatchObject({
      value: "postgres://bound",
      version: 1,
    });
    const environment = await consumer("/rpc/environment", base());
    expect(environment).toMatchObject({
      ok: true,
      secrets: { ...SECRETS, DB_URL: "postgres://v2" },
      etag: expect.stringMatching(/^"/),
      skipped: [],
    });
  });

  it("never throws across the binding: failures are {ok: false, error}", async () => {
    expect(await consumer("/rpc/secret", { ...base(), key: "NOPE" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(
      await consumer("/rpc/secret", { ...base(), token: "qala_pat_wrong", key: "DB_URL" }),
    ).toMatchObject({ ok: false, error: { code: "unauthorized" } });
    expect(await consumer("/rpc/secret", { ...base(), key: "not a key" })).toMatchObject({
      ok: false,
      error: { code: "validation_failed", message: expect.stringContaining("key") },
    });
    expect(await consumer("/rpc/environment", { ...base(), extra: 1 })).toMatchObject({
      ok: false,
      error: { code: "validation_failed" },
    });
    await admin.secrets.revoke(PROJECT, "production", "API_KEY", 1);
    expect(await consumer("/rpc/secret", { ...base(), key: "API_KEY" })).toMatchObject({
      ok: false,
      error: { code: "gone" },
    });
    expect(await consumer("/rpc/environment", base())).toMatchObject({
      ok: true,
      skipped: ["API_KEY"],
    });
  });

  it("refuses tokens bound to client addresses or certificates (a binding has neither)", async () => {
    const ipBound = await admin.tokens.create(PROJECT, {
      name: "ip-bound",
      role: "admin",
      ip_allowlist: ["203.0.113.0/24"],
    });
    const certBound = await admin.tokens.create(PROJECT, {
      name: "cert-bound",
      role: "admin",
      client_certificates: [{ sha256: "ab".repeat(32) }],
    });
    for (const bound of [ipBound.token, certBound.token]) {
      for (const path of ["/rpc/secret", "/rpc/environment"]) {
        const key = path === "/rpc/secret" ? { key: "DB_URL" } : {};
        const result = await consumer(path, { ...base(), token: bound, ...key });
        expect(result.ok).toBe(false);
        expect(["forbidden", "unauthorized"]).toContain(result.error?.code);
        expect(result.error?.message).toContain("service binding");
        expect(JSON.stringify(result)).not.toContain("postgres");
      }
    }
    // A project-wide IP allowlist: this client (loopback) is on it, the binding is not.
    await admin.projects.update(PROJECT, { settings: { ip_allowlist: ["127.0.0.1", "::1"] } });
    try {
      expect((await admin.secrets.get(PROJECT, "production", "DB_URL")).value).toBe(
        "postgres://v2",
      );
      expect(await consumer("/rpc/secret", { ...base(), key: "DB_URL" })).toMatchObject({
        ok: false,
        error: { code: "forbidden" },
      });
    } finally {
      await admin.projects.update(PROJECT, { settings: { ip_allowlist: [] } });
    }
  });

  it("applies the project's rate limit and records audit events like HTTP reads", async () => {
    const limited = await admin.tokens.create(PROJECT, { name: "limited", role: "admin" });
    await admin.projects.update(PROJECT, {
      settings: { rate_limit: { requests_per_second: 0.5, burst: 2 } },
    });
    try {
      const results = [];
      for (let i = 0; i < 4; i++) {
        results.push(
          await consumer("/rpc/secret", { ...base(), token: limited.token, key: "PEM" }),
        );
      }
      expect(results.slice(0, 2).every((r) => r.ok)).toBe(true);
      expect(results.at(-1)).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    } finally {
      await admin.projects.update(PROJECT, {
        settings: { rate_limit: { requests_per_second: 100, burst: 200 } },
      });
    }
    const events = await admin.audit.list(PROJECT, { action: "secret.read", limit: 50 });
    expect(events.items.some((e) => e.user_agent === "qala-service-binding")).toBe(true);
  });

  it("serves the SDK's fetcher option through a plain service binding", async () => {
    expect(await consumer("/sdk/secret", { ...base(), key: "PEM" })).toEqual({
      ok: true,
      value: "line 1\nline 2",
      version: 1,
    });
    expect(await consumer("/sdk/environment", base())).toMatchObject({
      ok: true,
      secrets: { DB_URL: "postgres://v2", PEM: "line 1\nline 2" },
    });
    expect(await consumer("/sdk/secret", { ...base(), key: "NOPE" })).toMatchObject({
      ok: false,
      status: 404,
    });

    // A project that requires encrypted payloads: the SDK seals its answers, RPC cannot.
    await admin.projects.update(PROJECT, { settings: { require_encrypted_payloads: true } });
    try {
      expect(await consumer("/sdk/secret", { ...base(), key: "PEM" })).toMatchObject({ ok: true });
      expect(await consumer("/rpc/secret", { ...base(), key: "PEM" })).toMatchObject({
        ok: false,
        error: { code: "encryption_required" },
      });
    } finally {
      await admin.projects.update(PROJECT, { settings: { require_encrypted_payloads: false } });
    }
  });
});

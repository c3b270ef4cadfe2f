// The SDK against the real Worker, hosted on Miniflare over HTTP.
import { describe, expect, inject, it } from "vitest";
import {
  AuthError,
  ConflictError,
  NetworkError,
  NotFoundError,
  QalaError,
  RateLimitError,
  createClient,
} from "../../../src/sdk/index.js";

const url = inject("qalaUrl");
const admin = () => createClient({ url, token: inject("adminToken"), backoffMs: 1 });
let counter = 0;
const slug = () => `sdk-${Date.now().toString(36)}-${counter++}`;

/** A fetcher in front of the real Worker that records every request and can inject faults. */
function recorder(
  fault?: (n: number, request: Request) => Response | "throw" | "hang" | undefined,
) {
  const seen: { method: string; path: string; status: number; ifNoneMatch: string | null }[] = [];
  const fetcher = async (request: Request) => {
    const injected = fault?.(seen.length, request);
    if (injected === "throw") {
      seen.push({
        method: request.method,
        path: new URL(request.url).pathname,
        status: 0,
        ifNoneMatch: null,
      });
      throw new TypeError("fetch failed");
    }
    if (injected === "hang") {
      return new Promise<Response>((_, reject) =>
        request.signal.addEventListener("abort", () => reject(request.signal.reason)),
      );
    }
    // Like a service binding, the fetcher ignores the host: send it to the hosted Worker.
    const { pathname, search } = new URL(request.url);
    const response = injected ?? (await fetch(new Request(`${url}${pathname}${search}`, request)));
    seen.push({
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      ifNoneMatch: request.headers.get("If-None-Match"),
    });
    return response;
  };
  return { seen, fetcher };
}

async function seeded() {
  const project = slug();
  const client = admin();
  await client.projects.create({ slug: project });
  await client.secrets.bulk(project, "production", {
    set: { DB_URL: "postgres://x", API_KEY: "k1" },
  });
  const { token } = await client.tokens.create(project, { name: "app", role: "admin" });
  return { project, token };
}

describe("the SDK", () => {
  it("manages projects and secrets with typed calls", async () => {
    const client = admin();
    const project = slug();
    const created = await client.projects.create({ slug: project, name: "SDK" });
    expect(created.environments?.map((e) => e.slug)).toEqual([
      "development",
      "staging",
      "production",
    ]);
    const first = await client.secrets.set(project, "development", "TOKEN", {
      generate: { length: 20, charset: "hex" },
    });
    expect(first.version).toBe(1);
    const value = await client.secrets.get(project, "development", "TOKEN");
    expect(value.value).toMatch(/^[0-9a-f]{20}$/);
    await client.secrets.set(project, "development", "TOKEN", { value: "v2" }, { ifVersion: 1 });
    const history = await client.secrets.versions(project, "development", "TOKEN");
    expect(history.items.map((v) => v.version)).toEqual([2, 1]);
    const exported = await client.export(project, "development", "dotenv");
    expect(exported.body).toBe('TOKEN="v2"\n');
    expect((await client.audit.verify(project)).ok).toBe(true);
  });

  it("caches an environment, revalidates it with If-None-Match, and sees changes", async () => {
    const { project, token } = await seeded();
    const { seen, fetcher } = recorder();
    const client = createClient({ fetcher, token, cacheTtlMs: 0, encryptPayloads: false });
    const first = await client.getEnvironment(project, "production");
    expect(first.secrets).toEqual({ DB_URL: "postgres://x", API_KEY: "k1" });
    const again = await client.getEnvironment(project, "production");
    expect(again.secrets).toEqual(first.secrets);
    expect(seen.map((s) => s.status)).toEqual([200, 304]);
    expect(seen[1]!.ifNoneMatch).toBe(first.etag);
    await admin().secrets.set(project, "production", "API_KEY", { value: "k2" });
    expect((await client.getEnvironment(project, "production")).secrets.API_KEY).toBe("k2");

    const fresh = recorder();
    const cached = createClient({
      fetcher: fresh.fetcher,
      token,
      cacheTtlMs: 60_000,
      encryptPayloads: false,
    });
    await cached.getEnvironment(project, "production");
    await cached.getEnvironment(project, "production");
    expect(fresh.seen).toHaveLength(1);
  });

  it("shares one request among concurrent callers", async () => {
    const { project, token } = await seeded();
    const { seen, fetcher } = recorder();
    const client = createClient({ fetcher, token, encryptPayloads: false });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => client.getEnvironment(project, "production")),
    );
    expect(new Set(results.map((r) => r.etag)).size).toBe(1);
    expect(seen).toHaveLength(1);
  });

  it("serves a stale environment when the server cannot answer, within the maximum staleness", async () => {
    const { project, token } = await seeded();
    let down = false;
    const { fetcher } = recorder(() => (down ? "throw" : undefined));
    const client = createClient({
      fetcher,
      token,
      cacheTtlMs: 0,
      maxStaleMs: 60_000,
      attempts: 1,
      encryptPayloads: false,
    });
    const live = await client.getEnvironment(project, "production");
    down = true;
    expect((await client.getEnvironment(project, "production")).secrets).toEqual(live.secrets);
    const strict = createClient({
      fetcher,
      token,
      cacheTtlMs: 0,
      maxStaleMs: 0,
      attempts: 1,
      encryptPayloads: false,
    });
    await expect(strict.getEnvironment(project, "production")).rejects.toBeInstanceOf(NetworkError);
  });

  it("retries 429 (honouring Retry-After) and 5xx reads, a bounded number of times", async () => {
    const { project, token } = await seeded();
    const limited = () =>
      Response.json(
        { error: { code: "rate_limited", message: "slow down", request_id: "req_x" } },
        { status: 429, headers: { "Retry-After": "0" } },
      );
    const twice = recorder((n) => (n < 2 ? limited() : undefined));
    const client = createClient({
      fetcher: twice.fetcher,
      token,
      backoffMs: 1,
      encryptPayloads: false,
    });
    expect((await client.secrets.get(project, "production", "API_KEY")).value).toBe("k1");
    expect(twice.seen.map((s) => s.status)).toEqual([429, 429, 200]);

    const always = recorder(() => limited());
    const bounded = createClient({
      fetcher: always.fetcher,
      token,
      attempts: 3,
      backoffMs: 1,
      encryptPayloads: false,
    });
    const error = await bounded.secrets.get(project, "production", "API_KEY").catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({
      status: 429,
      retryAfter: 0,
      retryable: true,
      requestId: "req_x",
    });
    expect(always.seen).toHaveLength(3);

    const serverError = () =>
      Response.json(
        { error: { code: "internal_error", message: "boom", request_id: "r" } },
        { status: 500 },
      );
    const flaky = recorder((n) => (n === 0 ? serverError() : undefined));
    const reader = createClient({
      fetcher: flaky.fetcher,
      token,
      backoffMs: 1,
      encryptPayloads: false,
    });
    await reader.secrets.get(project, "production", "API_KEY");
    expect(flaky.seen.map((s) => s.status)).toEqual([500, 200]);

    // A change whose outcome a 500 leaves unknown is not sent again.
    const writes = recorder((n) => (n === 0 ? serverError() : undefined));
    const writer = createClient({
      fetcher: writes.fetcher,
      token,
      backoffMs: 1,
      encryptPayloads: false,
    });
    await expect(
      writer.secrets.set(project, "production", "X", { value: "y" }),
    ).rejects.toMatchObject({ status: 500 });
    expect(writes.seen).toHaveLength(1);
  });

  it("times out a request that hangs", async () => {
    const { project, token } = await seeded();
    const { fetcher } = recorder(() => "hang");
    const client = createClient({
      fetcher,
      token,
      timeoutMs: 50,
      attempts: 2,
      backoffMs: 1,
      encryptPayloads: false,
    });
    const error = await client.secrets.get(project, "production", "API_KEY").catch((e) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.message).toMatch(/timed out/);
  });

  it("throws typed errors with the server's code and request id, never a value", async () => {
    const { project, token } = await seeded();
    const client = createClient({ url, token });
    const missing = await client.secrets.get(project, "production", "NOPE").catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: "not_found", retryable: false });
    expect(missing.requestId).toMatch(/^req_/);

    const secretValue = "hunter2-do-not-print";
    const stale = await client.secrets
      .set(project, "production", "API_KEY", { value: secretValue }, { ifVersion: 99 })
      .catch((e) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect(`${stale.message} ${stale.stack}`).not.toContain(secretValue);

    const bad = createClient({ url, token: "qala_svc_aaaa_bbbb" });
    const denied = await bad.secrets.get(project, "production", "API_KEY").catch((e) => e);
    expect(denied).toBeInstanceOf(AuthError);
    expect(denied).toBeInstanceOf(QalaError);
  });
});

describe("the SDK's administration calls", () => {
  it("manages users, teams, grants, roles, trust policies and reads both audit chains", async () => {
    const client = admin();
    const project = slug();
    await client.projects.create({ slug: project });
    const user = (await client.users.create({
      email: `${slug()}@example.com`,
      password: "a long enough password",
    })) as {
      id: string;
    };
    const team = await client.teams.create(`team-${slug()}`);
    await client.teams.addMember(team.id, user.id);
    await client.roles.create(project, "reader", ["project:read", "secrets:list", "secrets:read"]);
    await client.members.grant(project, team.id, { role: "reader", environments: ["development"] });
    const review = await client.accessReview(project);
    expect(review.items.some((i) => (i.subject as { id: string }).id === user.id)).toBe(true);
    const trust = await client.trusts.create(project, {
      issuer: "https://token.actions.githubusercontent.com",
      audience: "https://qala.example.com",
      claims: { sub: "repo:acme/app:ref:refs/heads/main" },
      role: "viewer",
    });
    expect((await client.trusts.list(project)).items).toHaveLength(1);
    await client.trusts.delete(project, trust.id as string);
    expect((await client.instanceAudit.verify()).ok).toBe(true);
    expect((await client.audit.list(project, { action: "member.grant" })).items).toHaveLength(1);
    await client.users.disable(user.id);
  });
});

describe("payload encryption in the SDK", () => {
  it("seals bodies and asks for sealed answers by default, and so works where a project requires it", async () => {
    const { project, token } = await seeded();
    await admin().projects.update(project, { settings: { require_encrypted_payloads: true } });
    const types: string[] = [];
    const { seen, fetcher } = recorder();
    const watched = async (request: Request) => {
      types.push(
        `${request.method} ${request.headers.get("Content-Type") ?? "-"} ${request.headers.has("Qala-Response-Key")}`,
      );
      const response = await fetcher(request);
      types.push(`<- ${response.headers.get("Content-Type")}`);
      return response;
    };
    const client = createClient({ fetcher: watched, token });
    await client.secrets.set(project, "production", "SEALED", { value: "never in the clear" });
    expect((await client.secrets.get(project, "production", "SEALED")).value).toBe(
      "never in the clear",
    );
    expect((await client.getEnvironment(project, "production")).secrets.SEALED).toBe(
      "never in the clear",
    );
    expect(types).toContain("PUT application/jose true");
    expect(types.filter((t) => t === "<- application/jose").length).toBeGreaterThanOrEqual(3);
    expect(seen.map((s) => s.path)).toContain("/.well-known/jwks.json");

    const plain = createClient({ url, token, encryptPayloads: false });
    const refused = await plain.secrets.get(project, "production", "SEALED").catch((e) => e);
    expect(refused).toMatchObject({ status: 415, code: "encryption_required" });
  });
});

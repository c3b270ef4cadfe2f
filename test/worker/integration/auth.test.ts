import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, api, BOOTSTRAP_TOKEN, expectError, json, ORIGIN } from "../helpers.js";

const bootstrap = (body: unknown) =>
  SELF.fetch(`${ORIGIN}/v1/bootstrap`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

describe("bootstrap", () => {
  it("refuses a wrong bootstrap token with 401 and creates nothing", async () => {
    const res = await bootstrap({
      bootstrap_token: "wrong",
      email: "x@example.com",
      password: "long enough password",
    });
    await expectError(res, 401, "unauthorized");
    const users = await env.DB.prepare("SELECT COUNT(*) AS n FROM users").first<{ n: number }>();
    expect(users?.n).toBe(0);
  });

  it("creates the first admin once, then answers 409", async () => {
    const token = await admin();
    expect(token).toMatch(/^qala_admin_[a-z2-7]+_[a-z2-7]+$/);
    const session = await api("POST", "/v1/auth/login", {
      token: null,
      body: { email: "admin@example.com", password: "correct horse battery staple" },
    });
    const { access_token } = await json(session);
    const me = await json(await api("GET", "/v1/me", { token: access_token }));
    expect(me.principal).toMatchObject({ kind: "user", instance_admin: true });
    const again = await bootstrap({
      bootstrap_token: BOOTSTRAP_TOKEN,
      email: "second@example.com",
      password: "another long password",
    });
    await expectError(again, 409, "conflict");
    expect((await api("GET", "/v1/projects")).status).toBe(200);
  });

  it("stores the API token and the password only as hashes", async () => {
    const token = await admin();
    const secret = token.split("_").at(-1)!;
    const rows = JSON.stringify(
      (await env.DB.prepare("SELECT * FROM api_tokens").all()).results.concat(
        (await env.DB.prepare("SELECT * FROM users").all()).results,
      ),
    );
    expect(rows).not.toContain(secret);
    expect(rows).not.toContain("correct horse battery staple");
    expect(rows).toContain("pbkdf2-sha256$100000$");
  });
});

describe("API token authentication", () => {
  it("answers 401 without a token, with a malformed one, and with a wrong secret", async () => {
    const token = await admin();
    const [, kind, id] = token.split("_");
    const wrongSecret = `qala_${kind}_${id}_${"a".repeat(52)}`;
    const unknownId = `qala_${kind}_${"b".repeat(16)}_${"a".repeat(52)}`;
    for (const bearer of [null, "garbage", wrongSecret, unknownId, token + "x"]) {
      const res = await api("GET", "/v1/projects", { token: bearer });
      await expectError(res, 401, "unauthorized");
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    }
  });

  it("gives an unknown token id and a wrong secret answers that differ only in request_id", async () => {
    const token = await admin();
    const [, kind, id] = token.split("_");
    const a = await api("GET", "/v1/projects", { token: `qala_${kind}_${id}_${"a".repeat(52)}` });
    const b = await api("GET", "/v1/projects", {
      token: `qala_${kind}_${"b".repeat(16)}_${"a".repeat(52)}`,
    });
    const strip = async (r: Response) => {
      const body = await json(r);
      body.error.request_id = "";
      const headers = [...r.headers].filter(([k]) => k !== "x-request-id");
      return { status: r.status, body, headers };
    };
    expect(await strip(a)).toEqual(await strip(b));
  });

  it("stops accepting a revoked token on the next request", async () => {
    const token = await admin();
    const id = `tok_${token.split("_")[2]}`;
    expect((await api("GET", "/v1/projects", { token })).status).toBe(200);
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = ? WHERE id = ?")
      .bind(new Date().toISOString(), id)
      .run();
    await expectError(await api("GET", "/v1/projects", { token }), 401, "unauthorized");
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = NULL WHERE id = ?").bind(id).run();
  });

  it("needs no token for /health and the OpenAPI document", async () => {
    expect(await json(await SELF.fetch(`${ORIGIN}/health`))).toEqual({
      status: "ok",
      version: expect.any(String),
    });
    expect((await SELF.fetch(`${ORIGIN}/openapi.json`)).status).toBe(200);
  });
});

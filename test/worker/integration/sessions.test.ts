import { env } from "cloudflare:test";
import { SignJWT, decodeProtectedHeader, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { openDb } from "../../../src/worker/db/client.js";
import { getSigningKey } from "../../../src/worker/services/server-keys.js";
import { api, expectError, json, login, newUser, ORIGIN } from "../helpers.js";

const me = (token: string) => api("GET", "/v1/me", { token });

/** Signs claims with the server's own signing key (to build tokens that must still fail). */
async function signAsServer(claims: JWTPayload, header: Record<string, unknown> = {}) {
  const { kid, key } = await getSigningKey(openDb(env.DB), env.QALA_MASTER_KEY);
  return new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid, ...header }).sign(key);
}

const now = () => Math.floor(Date.now() / 1000);

describe("password login and sessions", () => {
  it("logs in with email and password and answers /v1/me", async () => {
    const user = await newUser("alice");
    const res = await me(user.token);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      principal: { kind: "user", id: user.id, name: user.email },
      grants: [],
    });
  });

  it("gives a wrong password and an unknown email the same 401", async () => {
    const user = await newUser("bob");
    const wrong = await api("POST", "/v1/auth/login", {
      token: null,
      body: { email: user.email, password: "not the password" },
    });
    const unknown = await api("POST", "/v1/auth/login", {
      token: null,
      body: { email: "nobody@example.com", password: "not the password" },
    });
    const a = await expectError(wrong, 401, "unauthorized");
    const b = await expectError(unknown, 401, "unauthorized");
    expect({ ...a.error, request_id: "" }).toEqual({ ...b.error, request_id: "" });
  });

  it("matches emails case-insensitively", async () => {
    const user = await newUser("carol");
    expect((await login(user.email.toUpperCase())).access_token).toEqual(expect.any(String));
  });

  it("rotates refresh tokens, and a replayed one revokes the whole family", async () => {
    const user = await newUser("dave");
    const first = await api("POST", "/v1/auth/refresh", {
      token: null,
      body: { refresh_token: user.refresh },
    });
    expect(first.status).toBe(200);
    const pair = await json(first);
    expect(pair.refresh_token).not.toBe(user.refresh);
    expect((await me(pair.access_token)).status).toBe(200);

    const replay = await api("POST", "/v1/auth/refresh", {
      token: null,
      body: { refresh_token: user.refresh },
    });
    await expectError(replay, 401, "unauthorized");
    const instance = await json(await api("GET", "/v1/audit?action=auth.denied"));
    expect(instance.items[0]).toMatchObject({ target: "refresh", result: "denied" });
    // The legitimate holder's newer token is revoked with its family.
    await expectError(
      await api("POST", "/v1/auth/refresh", {
        token: null,
        body: { refresh_token: pair.refresh_token },
      }),
      401,
      "unauthorized",
    );
  });

  it("ends the session on logout", async () => {
    const user = await newUser("erin");
    const out = await api("POST", "/v1/auth/logout", {
      token: null,
      body: { refresh_token: user.refresh },
    });
    expect(out.status).toBe(204);
    await expectError(
      await api("POST", "/v1/auth/refresh", { token: null, body: { refresh_token: user.refresh } }),
      401,
      "unauthorized",
    );
  });

  it("ends every session of a disabled user at once, unexpired access tokens included", async () => {
    const user = await newUser("frank");
    expect((await me(user.token)).status).toBe(200);
    expect((await api("DELETE", `/v1/users/${user.id}`)).status).toBe(204);
    await expectError(await me(user.token), 401, "unauthorized");
    await expectError(
      await api("POST", "/v1/auth/refresh", { token: null, body: { refresh_token: user.refresh } }),
      401,
      "unauthorized",
    );
    await expectError(
      await api("POST", "/v1/auth/login", {
        token: null,
        body: { email: user.email, password: "a long enough password" },
      }),
      401,
      "unauthorized",
    );
    const listed = await json(await api("GET", "/v1/users?limit=1000"));
    expect(listed.items.find((u: any) => u.id === user.id).disabled_at).toEqual(expect.any(String));
  });

  it("lets only instance admins manage users", async () => {
    const user = await newUser("gina");
    await expectError(
      await api("POST", "/v1/users", { token: user.token, body: { email: "x@example.com" } }),
      403,
      "forbidden",
    );
    await expectError(await api("GET", "/v1/users", { token: user.token }), 403, "forbidden");
    await expectError(
      await api("POST", "/v1/users", { body: { email: user.email } }),
      409,
      "conflict",
    );
  });
});

describe("access token attacks", () => {
  it("refuses alg: none", async () => {
    const user = await newUser("mallory");
    const payload = {
      sub: user.id,
      kind: "user",
      iss: ORIGIN,
      aud: "qala-api",
      iat: now(),
      exp: now() + 600,
    };
    const b64 = (o: unknown) =>
      btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
    await expectError(await me(token), 401, "unauthorized");
  });

  it("refuses an HS256 token signed with the server's public key", async () => {
    const user = await newUser("mallory");
    const { kid } = decodeProtectedHeader(user.token);
    const row = await env.DB.prepare("SELECT public_key FROM keys WHERE id = ?")
      .bind(kid)
      .first<{ public_key: string }>();
    const token = await new SignJWT({ sub: user.id, kind: "user" })
      .setProtectedHeader({ alg: "HS256", kid: kid! })
      .setIssuer(ORIGIN)
      .setAudience("qala-api")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(row!.public_key));
    await expectError(await me(token), 401, "unauthorized");
  });

  it("refuses tokens of another issuer or audience, and expired ones beyond 60 s of skew", async () => {
    const user = await newUser("mallory");
    const base = { sub: user.id, kind: "user", iat: now() };
    const good = await signAsServer({ ...base, iss: ORIGIN, aud: "qala-api", exp: now() + 600 });
    expect((await me(good)).status).toBe(200);
    const cases = [
      { ...base, iss: "https://evil.example", aud: "qala-api", exp: now() + 600 },
      { ...base, iss: ORIGIN, aud: "another-api", exp: now() + 600 },
      { ...base, iss: ORIGIN, aud: "qala-api", exp: now() - 61 },
    ];
    for (const claims of cases) {
      await expectError(await me(await signAsServer(claims)), 401, "unauthorized");
    }
    // Within the 60 s tolerance an expired token still passes.
    const skewed = await signAsServer({ ...base, iss: ORIGIN, aud: "qala-api", exp: now() - 30 });
    expect((await me(skewed)).status).toBe(200);
  });

  it("rotates the signing key by kid; tokens signed before keep verifying", async () => {
    const user = await newUser("rotor");
    const before = decodeProtectedHeader(user.token).kid;
    const rotated = await api("POST", "/v1/admin/signing-keys/rotate");
    expect(rotated.status).toBe(200);
    const { kid } = await json(rotated);
    expect(kid).not.toBe(before);
    expect((await me(user.token)).status).toBe(200);
    const fresh = await login(user.email);
    expect(decodeProtectedHeader(fresh.access_token).kid).toBe(kid);
    expect((await me(fresh.access_token)).status).toBe(200);
    await expectError(
      await api("POST", "/v1/admin/signing-keys/rotate", { token: user.token }),
      403,
      "forbidden",
    );
  });

  it("refuses a token whose kid is unknown", async () => {
    const user = await newUser("mallory");
    const forged = await signAsServer(
      { sub: user.id, kind: "user", iss: ORIGIN, aud: "qala-api", iat: now(), exp: now() + 600 },
      { kid: "key_unknown" },
    );
    await expectError(await me(forged), 401, "unauthorized");
  });
});

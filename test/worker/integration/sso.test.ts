import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, json, ORIGIN } from "../helpers.js";

const LOOPBACK = "http://127.0.0.1:53682/callback";

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");

async function pkce() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: b64url(new Uint8Array(digest)) };
}

async function nextIdentity(identity: Record<string, unknown>) {
  await fetch(`${env.TEST_ISSUER_URL}/next-identity`, {
    method: "POST",
    body: JSON.stringify(identity),
  });
}

/** Follows the IdP's authorization endpoint (which approves at once) back to the redirect. */
async function authorize(location: string): Promise<URL> {
  const res = await fetch(location, { redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("Location")!);
}

async function cliLogin(email: string, verified = true) {
  await nextIdentity({ email, email_verified: verified, name: "SSO User" });
  const { verifier, challenge } = await pkce();
  const start = await SELF.fetch(
    `${ORIGIN}/v1/auth/sso/start?redirect_uri=${encodeURIComponent(LOOPBACK)}&code_challenge=${challenge}&state=xyz`,
    { redirect: "manual" },
  );
  expect(start.status).toBe(302);
  const back = await authorize(start.headers.get("Location")!);
  expect(`${back.origin}${back.pathname}`).toBe(LOOPBACK);
  expect(back.searchParams.get("state")).toBe("xyz");
  return { code: back.searchParams.get("code")!, verifier };
}

const exchange = (body: Record<string, unknown>) =>
  api("POST", "/v1/auth/sso/token", { token: null, body });

describe("SSO, CLI loopback flow", () => {
  it("signs in through the IdP with PKCE and creates the user as a member", async () => {
    const email = `sso-${Date.now()}@example.com`;
    const { code, verifier } = await cliLogin(email);
    const res = await exchange({ code, code_verifier: verifier, redirect_uri: LOOPBACK });
    expect(res.status).toBe(200);
    const pair = await json(res);
    const me = await json(await api("GET", "/v1/me", { token: pair.access_token }));
    expect(me.principal).toMatchObject({ kind: "user", name: email, instance_admin: false });
    // A second login finds the same user.
    const again = await cliLogin(email);
    const second = await json(
      await exchange({ code: again.code, code_verifier: again.verifier, redirect_uri: LOOPBACK }),
    );
    const me2 = await json(await api("GET", "/v1/me", { token: second.access_token }));
    expect(me2.principal.id).toBe(me.principal.id);
  });

  it("refuses a wrong code verifier, a reused code and a non-loopback redirect", async () => {
    const { code, verifier } = await cliLogin(`pkce-${Date.now()}@example.com`);
    const wrong = (await pkce()).verifier;
    await expectError(
      await exchange({ code, code_verifier: wrong, redirect_uri: LOOPBACK }),
      401,
      "unauthorized",
    );
    // The IdP spends a code on first use, right or wrong.
    await expectError(
      await exchange({ code, code_verifier: verifier, redirect_uri: LOOPBACK }),
      401,
      "unauthorized",
    );
    await expectError(
      await exchange({ code, code_verifier: verifier, redirect_uri: "https://evil.example/cb" }),
      422,
      "validation_failed",
    );
    await expectError(
      await SELF.fetch(`${ORIGIN}/v1/auth/sso/start?redirect_uri=${encodeURIComponent(LOOPBACK)}`, {
        redirect: "manual",
      }),
      422,
      "validation_failed",
    );
  });

  it("refuses emails outside the allowed domains or not verified by the IdP", async () => {
    const outside = await cliLogin(`someone-${Date.now()}@elsewhere.org`);
    await expectError(
      await exchange({
        code: outside.code,
        code_verifier: outside.verifier,
        redirect_uri: LOOPBACK,
      }),
      403,
      "forbidden",
    );
    const unverified = await cliLogin(`unverified-${Date.now()}@example.com`, false);
    await expectError(
      await exchange({
        code: unverified.code,
        code_verifier: unverified.verifier,
        redirect_uri: LOOPBACK,
      }),
      403,
      "forbidden",
    );
  });
});

describe("SSO, browser flow", () => {
  it("keeps the PKCE verifier in a sealed cookie and completes the login at the callback", async () => {
    const email = `browser-${Date.now()}@example.com`;
    await nextIdentity({ email, email_verified: true });
    const start = await SELF.fetch(`${ORIGIN}/v1/auth/sso/start`, { redirect: "manual" });
    expect(start.status).toBe(302);
    const cookie = start.headers.get("Set-Cookie")!;
    expect(cookie).toMatch(/qala_sso=.+HttpOnly/i);
    expect(cookie).toMatch(/Secure/);
    const callback = await authorize(start.headers.get("Location")!);
    expect(callback.pathname).toBe("/v1/auth/sso/callback");
    const cookieValue = cookie.split(";")[0]!;

    const forged = new URL(callback);
    forged.searchParams.set("state", "forged");
    await expectError(
      await SELF.fetch(forged.toString(), { headers: { Cookie: cookieValue } }),
      401,
      "unauthorized",
    );
    await expectError(await SELF.fetch(callback.toString()), 401, "unauthorized");

    const done = await SELF.fetch(callback.toString(), { headers: { Cookie: cookieValue } });
    expect(done.status).toBe(200);
    const pair = await json(done);
    expect(pair).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
    });
  });

  it("sends the browser back only to allowed origins", async () => {
    await expectError(
      await SELF.fetch(
        `${ORIGIN}/v1/auth/sso/start?redirect_uri=${encodeURIComponent("https://evil.example/")}`,
        {
          redirect: "manual",
        },
      ),
      422,
      "validation_failed",
    );
    const ok = await SELF.fetch(
      `${ORIGIN}/v1/auth/sso/start?redirect_uri=${encodeURIComponent(`${ORIGIN}/dashboard`)}`,
      { redirect: "manual" },
    );
    expect(ok.status).toBe(302);
  });
});

import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, newProject, newUser, projectToken, secretsPath } from "../helpers.js";

const PASSWORD = "a long enough password";

const attempt = (email: string, password: string, ip: string) =>
  api("POST", "/v1/auth/login", {
    token: null,
    body: { email, password },
    headers: { "CF-Connecting-IP": ip },
  });

const throttle = (key: string) => env.AUTH_THROTTLE.get(env.AUTH_THROTTLE.idFromName(key));

describe("AuthThrottle", () => {
  it("locks an account out at the 11th attempt in a minute, right password or not, then lets it in", async () => {
    const user = await newUser("locked");
    const ip = "198.51.100.7";
    for (let i = 0; i < 10; i++) {
      await expectError(await attempt(user.email, "wrong password!", ip), 401, "unauthorized");
    }
    const locked = await attempt(user.email, PASSWORD, ip);
    await expectError(locked, 429, "rate_limited");
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    // The lockout holds from another address too (the account's own budget).
    await expectError(await attempt(user.email, PASSWORD, "198.51.100.8"), 429, "rate_limited");
    // A minute later the limit has reset.
    for (const key of [`ip:${ip}`, `account:${user.email}`]) {
      await throttle(key).setTestHooks({ clockOffsetMs: 61_000 });
    }
    expect((await attempt(user.email, PASSWORD, ip)).status).toBe(200);
  });

  it("budgets failed token checks per client address", async () => {
    const ip = "198.51.100.9";
    const bad = `qala_svc_${"a".repeat(16)}_${"b".repeat(52)}`;
    for (let i = 0; i < 10; i++) {
      const res = await api("GET", "/v1/projects", {
        token: bad,
        headers: { "CF-Connecting-IP": ip },
      });
      expect(res.status).toBe(401);
    }
    await expectError(
      await api("GET", "/v1/projects", { token: bad, headers: { "CF-Connecting-IP": ip } }),
      429,
      "rate_limited",
    );
    // Another address is not affected.
    expect(
      (
        await api("GET", "/v1/projects", {
          token: bad,
          headers: { "CF-Connecting-IP": "198.51.100.10" },
        })
      ).status,
    ).toBe(401);
  });

  it("budgets failed token checks on the coordinator's read path too", async () => {
    const project = await newProject("thr");
    const ip = "198.51.100.11";
    const good = await projectToken(project, { role: "viewer" });
    const bad = `${good.token.slice(0, -6)}AAAAAA`;
    const read = (token: string, from = ip) =>
      api("GET", `${secretsPath(project)}?values=true`, {
        token,
        headers: { "CF-Connecting-IP": from },
      });
    for (let i = 0; i < 10; i++) await expectError(await read(bad), 401, "unauthorized");
    const locked = await read(bad);
    await expectError(locked, 429, "rate_limited");
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another address is not affected, and a good token still reads (only failures are budgeted).
    await expectError(await read(bad, "198.51.100.12"), 401, "unauthorized");
    expect((await read(good.token)).status).toBe(200);
  });

  it("doubles the lockout each time", async () => {
    const stub = throttle(`account:double-${Date.now()}@example.com`);
    const lockouts: number[] = [];
    for (let round = 0; round < 3; round++) {
      let lockout = 0;
      for (let i = 0; i < 10; i++) lockout = await stub.fail();
      lockouts.push(lockout);
      await stub.setTestHooks({ clockOffsetMs: (round + 1) * 10_000_000 });
    }
    expect(lockouts).toEqual([60, 120, 240]);
  });
});

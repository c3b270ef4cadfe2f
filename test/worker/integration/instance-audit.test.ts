import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, api, expectError, json, newUser } from "../helpers.js";

const instance = () =>
  env.INSTANCE_COORDINATOR.get(env.INSTANCE_COORDINATOR.idFromName("instance"));

describe("the instance audit chain", () => {
  it("records bootstrap, logins, users, teams and key rotation, and verifies", async () => {
    await admin();
    const user = await newUser("audited");
    await api("POST", "/v1/auth/login", {
      token: null,
      body: { email: user.email, password: "nope nope nope" },
    });
    const team = await json(await api("POST", "/v1/teams", { body: { name: "auditors" } }));
    await api("PUT", `/v1/teams/${team.id}/members/${user.id}`);
    await api("DELETE", `/v1/users/${user.id}`);
    await api("POST", "/v1/admin/signing-keys/rotate");
    const events = await json(await api("GET", "/v1/audit?limit=100"));
    expect(events.items.map((e: any) => `${e.action}:${e.result}`).reverse()).toEqual([
      "bootstrap:ok",
      "user.create:ok",
      "auth.login:ok",
      "auth.login:denied",
      "team.create:ok",
      "team.member.add:ok",
      "user.disable:ok",
      "key.rotate:ok",
    ]);
    expect(JSON.stringify(events)).not.toContain("nope nope nope");
    expect(await json(await api("GET", "/v1/audit/verify"))).toMatchObject({ ok: true, events: 8 });
    await instance().flush();
    expect(await json(await api("GET", "/v1/audit/verify"))).toMatchObject({ ok: true, events: 8 });
    await env.DB.prepare(
      "UPDATE audit_events SET result = 'ok' WHERE chain = 'instance' AND seq = 4",
    ).run();
    expect(await json(await api("GET", "/v1/audit/verify"))).toMatchObject({
      ok: false,
      first_bad_seq: 4,
    });
  });

  it("is for instance admins only", async () => {
    const user = await newUser("curious");
    await expectError(await api("GET", "/v1/audit", { token: user.token }), 403, "forbidden");
  });

  it("fails closed: an instance action whose event cannot be recorded answers 503", async () => {
    await instance().setTestHooks({ failAudit: true });
    try {
      await expectError(
        await api("POST", "/v1/teams", { body: { name: "unrecorded" } }),
        503,
        "unavailable",
      );
    } finally {
      await instance().setTestHooks({ failAudit: false });
    }
    const teams = await json(await api("GET", "/v1/teams"));
    expect(teams.items.map((t: any) => t.name)).not.toContain("unrecorded");
  });
});

import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
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

async function seeded() {
  const project = await newProject("acc");
  for (const env of ["development", "staging", "production"]) {
    await api("PUT", `${secretsPath(project, env)}/KEY`, { body: { value: `${env}-value` } });
  }
  return project;
}

const read = (project: string, env: string, token: string) =>
  api("GET", `${secretsPath(project, env)}/KEY`, { token });

describe("roles and grants", () => {
  it("lets a viewer list keys but never read a value", async () => {
    const project = await seeded();
    const viewer = await newUser("viewer");
    await grant(project, viewer.id, "viewer");
    const list = await api("GET", `${secretsPath(project)}?values=true`, { token: viewer.token });
    expect(list.status).toBe(200);
    const body = await json(list);
    expect(body.items.map((i: any) => i.key)).toEqual(["KEY"]);
    expect(body.items[0]).not.toHaveProperty("value");
    await expectError(await read(project, "development", viewer.token), 403, "forbidden");
    await expectError(
      await api("GET", `/v1/projects/${project}/environments/development/export`, {
        token: viewer.token,
      }),
      403,
      "forbidden",
    );
    await expectError(
      await api("PUT", `${secretsPath(project)}/KEY`, {
        token: viewer.token,
        body: { value: "x" },
      }),
      403,
      "forbidden",
    );
  });

  it("lets a developer read and write outside production and only list in production", async () => {
    const project = await seeded();
    const dev = await newUser("developer");
    await grant(project, dev.id, "developer");
    expect(await json(await read(project, "development", dev.token))).toMatchObject({
      value: "development-value",
    });
    expect(
      (
        await api("PUT", `${secretsPath(project, "staging")}/NEW`, {
          token: dev.token,
          body: { value: "v" },
        })
      ).status,
    ).toBe(201);
    await expectError(await read(project, "production", dev.token), 403, "forbidden");
    expect(
      (await api("GET", secretsPath(project, "production"), { token: dev.token })).status,
    ).toBe(200);
    await expectError(
      await api("PUT", `${secretsPath(project, "production")}/KEY`, {
        token: dev.token,
        body: { value: "x" },
      }),
      403,
      "forbidden",
    );
    await expectError(
      await api("PATCH", `/v1/projects/${project}`, { token: dev.token, body: { name: "n" } }),
      403,
      "forbidden",
    );
  });

  it("answers 404 for a project without a grant and an environment outside every grant", async () => {
    const project = await seeded();
    const outsider = await newUser("outsider");
    await expectError(await read(project, "development", outsider.token), 404, "not_found");
    await expectError(
      await api("GET", `/v1/projects/${project}`, { token: outsider.token }),
      404,
      "not_found",
    );
    const listed = await json(await api("GET", "/v1/projects", { token: outsider.token }));
    expect(listed.items).toEqual([]);

    const limited = await newUser("limited");
    await grant(project, limited.id, "admin", { environments: ["development"] });
    expect((await read(project, "development", limited.token)).status).toBe(200);
    await expectError(await read(project, "staging", limited.token), 404, "not_found");
    const envs = await json(
      await api("GET", `/v1/projects/${project}/environments`, { token: limited.token }),
    );
    expect(envs.items.map((e: any) => e.slug)).toEqual(["development"]);
    // An environment-limited grant cannot manage the whole project.
    await expectError(
      await api("POST", `/v1/projects/${project}/tokens`, {
        token: limited.token,
        body: { name: "t", role: "viewer" },
      }),
      403,
      "forbidden",
    );
  });

  it("gives team members the team's grants, and takes them away with membership", async () => {
    const project = await seeded();
    const user = await newUser("teamed");
    const team = await json(
      await api("POST", "/v1/teams", { body: { name: `team-${Date.now()}` } }),
    );
    expect((await api("PUT", `/v1/teams/${team.id}/members/${user.id}`)).status).toBe(204);
    await grant(project, team.id, "developer", { environments: ["development"] });
    expect((await read(project, "development", user.token)).status).toBe(200);
    const mine = await json(await api("GET", "/v1/me", { token: user.token }));
    expect(mine.grants).toEqual([
      expect.objectContaining({ via: `team:${team.id}`, role: "developer" }),
    ]);
    expect((await api("DELETE", `/v1/teams/${team.id}/members/${user.id}`)).status).toBe(204);
    await expectError(await read(project, "development", user.token), 404, "not_found");
  });

  it("stops honouring an expired grant with no job having to run", async () => {
    const project = await seeded();
    const user = await newUser("temp");
    const soon = new Date(Date.now() + 3600_000).toISOString();
    await grant(project, user.id, "developer", { expires_at: soon });
    expect((await read(project, "development", user.token)).status).toBe(200);
    // Time passes: the stored expiry is now in the past.
    await env.DB.prepare("UPDATE grants SET expires_at = ? WHERE subject_id = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), user.id)
      .run();
    await expectError(await read(project, "development", user.token), 404, "not_found");
    await expectError(
      await api("PUT", `/v1/projects/${project}/members/${user.id}`, {
        body: { role: "viewer", expires_at: new Date(Date.now() - 1000).toISOString() },
      }),
      422,
      "validation_failed",
    );
  });

  it("makes the creator of a project its owner, and only owners delete projects", async () => {
    const owner = await newUser("owner");
    const created = await api("POST", "/v1/projects", {
      token: owner.token,
      body: { slug: `own-${Date.now()}` },
    });
    expect(created.status).toBe(201);
    const { slug } = await json(created);
    const admin = await newUser("padmin");
    await grant(slug, admin.id, "admin");
    await expectError(
      await api("DELETE", `/v1/projects/${slug}`, { token: admin.token }),
      403,
      "forbidden",
    );
    expect((await api("DELETE", `/v1/projects/${slug}`, { token: owner.token })).status).toBe(204);
  });

  it("lets nobody grant more than they hold", async () => {
    const project = await seeded();
    const roleRes = await api("POST", `/v1/projects/${project}/roles`, {
      body: { name: "membership", permissions: ["members:manage", "secrets:list", "project:read"] },
    });
    expect(roleRes.status).toBe(201);
    const manager = await newUser("manager");
    await grant(project, manager.id, "membership");
    const target = await newUser("target");
    await expectError(
      await api("PUT", `/v1/projects/${project}/members/${target.id}`, {
        token: manager.token,
        body: { role: "admin" },
      }),
      403,
      "forbidden",
    );
    expect(
      (
        await api("PUT", `/v1/projects/${project}/members/${target.id}`, {
          token: manager.token,
          body: { role: "viewer" },
        })
      ).status,
    ).toBe(200);
    await expectError(
      await api("POST", `/v1/projects/${project}/roles`, {
        body: { name: "admin", permissions: ["secrets:list"] },
      }),
      409,
      "conflict",
    );
  });

  it("reviews every subject's effective permissions per environment", async () => {
    const project = await seeded();
    const dev = await newUser("reviewed");
    await grant(project, dev.id, "developer");
    await projectToken(project, { role: "viewer", environments: ["staging"] });
    const review = await json(await api("GET", `/v1/projects/${project}/access-review`));
    const user = review.items.find((i: any) => i.subject.id === dev.id);
    expect(user.environments.production).toEqual(["project:read", "secrets:list"]);
    expect(user.environments.development).toContain("secrets:read");
    const token = review.items.find((i: any) => i.subject.kind === "token");
    expect(token.environments.staging).toEqual(["project:read", "secrets:list"]);
    expect(token.environments.development).toEqual([]);
  });
});

describe("project API tokens", () => {
  it("shows the token once, lists without it, and stops working at once when revoked", async () => {
    const project = await seeded();
    const created = await projectToken(project, { role: "developer" });
    expect(created.token).toMatch(/^qala_svc_[a-z2-7]+_[a-z2-7]+$/);
    expect((await read(project, "development", created.token)).status).toBe(200);
    const list = await api("GET", `/v1/projects/${project}/tokens`);
    const text = await list.text();
    expect(text).not.toContain(created.token.split("_").at(-1));
    expect(JSON.parse(text).items[0]).toMatchObject({ id: created.id, role: "developer" });
    expect((await api("DELETE", `/v1/projects/${project}/tokens/${created.id}`)).status).toBe(204);
    await expectError(await read(project, "development", created.token), 401, "unauthorized");
  });

  it("keeps a token of project A out of project B", async () => {
    const a = await seeded();
    const b = await seeded();
    const token = await projectToken(a, { role: "admin" });
    expect((await read(a, "development", token.token)).status).toBe(200);
    await expectError(await read(b, "development", token.token), 404, "not_found");
    await expectError(
      await api("GET", `/v1/projects/${b}/tokens`, { token: token.token }),
      404,
      "not_found",
    );
    // Another project's token id is as unknown as a made-up one.
    const other = await projectToken(b, { role: "viewer" });
    await expectError(
      await api("DELETE", `/v1/projects/${a}/tokens/${other.id}`),
      404,
      "not_found",
    );
  });

  it("limits a token to its environments and explicit permissions", async () => {
    const project = await seeded();
    const token = await projectToken(project, {
      permissions: ["secrets:list", "secrets:read"],
      environments: ["development"],
    });
    expect((await read(project, "development", token.token)).status).toBe(200);
    await expectError(await read(project, "staging", token.token), 404, "not_found");
    await expectError(
      await api("PUT", `${secretsPath(project)}/KEY`, { token: token.token, body: { value: "x" } }),
      403,
      "forbidden",
    );
  });

  it("expires a token (ttl_seconds) and records its last use", async () => {
    const project = await seeded();
    const token = await projectToken(project, { role: "viewer", ttl_seconds: 3600 });
    expect((await api("GET", secretsPath(project), { token: token.token })).status).toBe(200);
    await vi.waitFor(
      async () => {
        const row = await env.DB.prepare("SELECT last_used_at FROM api_tokens WHERE id = ?")
          .bind(token.id)
          .first();
        expect(row?.last_used_at).toEqual(expect.any(String));
      },
      { timeout: 5000, interval: 200 },
    );
    // Time passes (the coordinator's clock moves an hour and a second).
    await (await coordinatorOf(project)).setTestHooks({ clockOffsetMs: 3601_000 });
    await expectError(
      await api("GET", secretsPath(project), { token: token.token }),
      401,
      "unauthorized",
    );
  });

  it("compares token secrets with the runtime's constant-time comparison", async () => {
    const project = await seeded();
    const token = await projectToken(project, { role: "viewer" });
    const spy = vi.spyOn(crypto.subtle, "timingSafeEqual");
    try {
      await api("GET", secretsPath(project), { token: token.token });
      await api("GET", secretsPath(project), { token: token.token.slice(0, -1) + "a" });
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      spy.mockRestore();
    }
  });

  it("cannot create projects or manage users", async () => {
    const project = await seeded();
    const token = await projectToken(project, { role: "owner" });
    await expectError(
      await api("POST", "/v1/projects", { token: token.token, body: { slug: "nope" } }),
      403,
      "forbidden",
    );
    await expectError(await api("GET", "/v1/users", { token: token.token }), 403, "forbidden");
  });
});

describe("IP allowlists", () => {
  it("admits a token only from its allowlist, by the runtime's client address", async () => {
    const project = await seeded();
    const token = await projectToken(project, {
      role: "viewer",
      ip_allowlist: ["10.0.0.0/8", "2001:db8::/32"],
    });
    const from = (headers: Record<string, string>) =>
      api("GET", secretsPath(project), { token: token.token, headers });
    expect((await from({ "CF-Connecting-IP": "10.1.2.3" })).status).toBe(200);
    expect((await from({ "CF-Connecting-IP": "2001:db8::1" })).status).toBe(200);
    await expectError(await from({ "CF-Connecting-IP": "192.168.1.1" }), 403, "forbidden");
    await expectError(await from({}), 403, "forbidden");
    // X-Forwarded-For does not change the address used.
    await expectError(
      await from({ "CF-Connecting-IP": "192.168.1.1", "X-Forwarded-For": "10.1.2.3" }),
      403,
      "forbidden",
    );
    await expectError(
      await from({ "X-Forwarded-For": "10.1.2.3", "X-Real-IP": "10.1.2.3" }),
      403,
      "forbidden",
    );
  });

  it("applies a project's allowlist to everyone and refuses one that locks the caller out", async () => {
    const project = await seeded();
    await expectError(
      await api("PATCH", `/v1/projects/${project}`, {
        body: { settings: { ip_allowlist: ["10.0.0.0/8"] } },
        headers: { "CF-Connecting-IP": "192.168.1.1" },
      }),
      422,
      "validation_failed",
    );
    await expectError(
      await api("PATCH", `/v1/projects/${project}`, {
        body: { settings: { ip_allowlist: ["not-a-cidr"] } },
      }),
      422,
      "validation_failed",
    );
    const dev = await newUser("roaming");
    await grant(project, dev.id, "developer");
    const set = await api("PATCH", `/v1/projects/${project}`, {
      body: { settings: { ip_allowlist: ["10.0.0.0/8"] } },
      headers: { "CF-Connecting-IP": "10.0.0.1" },
    });
    expect(set.status).toBe(200);
    // Admins included: the project now answers only inside its allowlist.
    await expectError(await api("GET", `/v1/projects/${project}`), 403, "forbidden");
    await expectError(
      await api("GET", `${secretsPath(project)}/KEY`, {
        token: dev.token,
        headers: { "CF-Connecting-IP": "8.8.8.8" },
      }),
      403,
      "forbidden",
    );
    expect(
      (
        await api("GET", `${secretsPath(project)}/KEY`, {
          token: dev.token,
          headers: { "CF-Connecting-IP": "10.9.9.9" },
        })
      ).status,
    ).toBe(200);
  });
});

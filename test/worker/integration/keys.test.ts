import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { api, coordinatorOf, expectError, json, newProject, secretsPath } from "../helpers.js";

const keys = async (project: string) =>
  (await json(await api("GET", `/v1/projects/${project}/keys`))).items;
const job = async (project: string, id: string) =>
  json(await api("GET", `/v1/projects/${project}/keys/jobs/${id}`));

const kekUse = (project: string) =>
  env.DB.prepare(
    `SELECT v.kek_id AS kek, COUNT(*) AS n FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
     JOIN environments e ON e.id = s.environment_id JOIN projects p ON p.id = e.project_id
     WHERE p.slug = ? AND e.slug = 'development' GROUP BY v.kek_id`,
  )
    .bind(project)
    .all<{ kek: string; n: number }>();

describe("KEK rotation", () => {
  it("activates a new KEK at once, re-wraps in batches that survive a crash, and destroys the old KEK", async () => {
    const project = await newProject("keys");
    const values = Object.fromEntries(
      Array.from({ length: 250 }, (_, i) => [`K${i}`, `value-${i}`]),
    );
    await api("PATCH", secretsPath(project), { body: { set: values } });
    const before = await keys(project);
    expect(before.filter((k: any) => k.environment === "development")).toMatchObject([
      { version: 1, state: "active" },
    ]);
    expect(JSON.stringify(before)).not.toMatch(/wrapped|material/);

    const stub = await coordinatorOf(project);
    await stub.setTestHooks({ failRotationAfterBatches: 1 });
    const started = await api("POST", `/v1/projects/${project}/keys/rotate`, {
      body: { environment: "development" },
    });
    expect(started.status).toBe(202);
    const { job: id } = await json(started);
    const dev = (await keys(project)).filter((k: any) => k.environment === "development");
    expect(dev.map((k: any) => `${k.version}:${k.state}`)).toEqual(["2:active", "1:retired"]);
    await expectError(
      await api("POST", `/v1/projects/${project}/keys/rotate`, { body: {} }),
      409,
      "conflict",
    );

    // New writes use the new KEK at once.
    await api("PUT", `${secretsPath(project)}/NEW`, { body: { value: "after" } });
    const newKek = dev[0].id;

    // The job runs one batch, then "crashes" (throws between batches).
    await vi.waitFor(async () => expect((await job(project, id)).done).toBe(100), {
      timeout: 5000,
    });
    expect(await job(project, id)).toMatchObject({ state: "running", total: 250 });
    // Every secret reads correctly in the middle (DEKs under both KEKs).
    const middle = await json(await api("GET", `${secretsPath(project)}?values=true&limit=1000`));
    expect(middle.items.filter((i: any) => i.value === values[i.key])).toHaveLength(250);
    expect((await kekUse(project)).results).toHaveLength(2);

    // A second run finishes the job.
    await stub.setTestHooks({ failRotationAfterBatches: -1 });
    await vi.waitFor(
      async () => {
        await runDurableObjectAlarm(stub).catch(() => false);
        expect((await job(project, id)).state).toBe("done");
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(await job(project, id)).toMatchObject({ done: 250, total: 250 });
    expect((await kekUse(project)).results).toEqual([{ kek: newKek, n: 251 }]);
    const after = (await keys(project)).filter((k: any) => k.environment === "development");
    expect(after.map((k: any) => `${k.version}:${k.state}`)).toEqual(["2:active", "1:destroyed"]);
    const all = await json(await api("GET", `${secretsPath(project)}?values=true&limit=1000`));
    expect(all.items.filter((i: any) => i.value === (values[i.key] ?? "after"))).toHaveLength(251);
    // Other environments were not touched.
    expect((await keys(project)).filter((k: any) => k.environment === "staging")).toMatchObject([
      { version: 1, state: "active" },
    ]);
    // And the next rotation may start.
    expect(
      (
        await api("POST", `/v1/projects/${project}/keys/rotate`, {
          body: { environment: "staging" },
        })
      ).status,
    ).toBe(202);
  });

  it("needs keys:manage", async () => {
    const project = await newProject("keys");
    const { token } = await json(
      await api("POST", `/v1/projects/${project}/tokens`, {
        body: { name: "dev", role: "developer" },
      }),
    );
    await expectError(
      await api("POST", `/v1/projects/${project}/keys/rotate`, { token, body: {} }),
      403,
      "forbidden",
    );
  });
});

import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  api,
  coordinatorOf,
  expectError,
  json,
  newProject,
  secretsPath,
  cron,
} from "../helpers.js";

const versionRows = (project: string, key: string) =>
  env.DB.prepare(
    `SELECT v.version, v.wrapped_dek, v.ciphertext, v.destroyed_at FROM secret_versions v
     JOIN secrets s ON s.id = v.secret_id JOIN environments e ON e.id = s.environment_id
     JOIN projects p ON p.id = e.project_id WHERE p.slug = ? AND s.key = ? ORDER BY v.version`,
  )
    .bind(project, key)
    .all<{
      version: number;
      wrapped_dek: string | null;
      ciphertext: string;
      destroyed_at: string | null;
    }>();

describe("the cron job", () => {
  it("destroys versions beyond max_versions, deleting their wrapped DEKs", async () => {
    const project = await newProject("cron");
    await api("PATCH", `/v1/projects/${project}`, { body: { settings: { max_versions: 2 } } });
    for (const v of ["v1", "v2", "v3", "v4", "v5"]) {
      await api("PUT", `${secretsPath(project)}/K`, { body: { value: v } });
    }
    await cron();
    const history = await json(await api("GET", `${secretsPath(project)}/K/versions`));
    expect(history.items.map((v: any) => [v.version, v.destroyed_at !== null])).toEqual([
      [5, false],
      [4, false],
      [3, true],
      [2, true],
      [1, true],
    ]);
    await expectError(await api("GET", `${secretsPath(project)}/K?version=1`), 410, "gone");
    expect((await json(await api("GET", `${secretsPath(project)}/K?version=4`))).value).toBe("v4");
    const rows = (await versionRows(project, "K")).results;
    expect(rows.filter((r) => r.wrapped_dek === null).map((r) => r.version)).toEqual([1, 2, 3]);
    await expectError(
      await api("POST", `${secretsPath(project)}/K/rollback`, { body: { version: 2 } }),
      410,
      "gone",
    );
  });

  it("purges soft-deleted secrets past deleted_retention_days, leaving ciphertext no key can open", async () => {
    const project = await newProject("cron");
    await api("PATCH", `/v1/projects/${project}`, {
      body: { settings: { deleted_retention_days: 1 } },
    });
    await api("PUT", `${secretsPath(project)}/OLD`, { body: { value: "shred me" } });
    await api("DELETE", `${secretsPath(project)}/OLD`);
    await cron(); // not yet: deleted less than a day ago
    expect((await api("POST", `${secretsPath(project)}/OLD/restore`)).status).toBe(200);
    await api("DELETE", `${secretsPath(project)}/OLD`);
    // Two days later, by the coordinator's clock.
    await (await coordinatorOf(project)).setTestHooks({ clockOffsetMs: 2 * 86_400_000 });
    await cron();
    await expectError(await api("POST", `${secretsPath(project)}/OLD/restore`), 404, "not_found");
    const [row] = (await versionRows(project, "OLD")).results;
    // The ciphertext remains, but its DEK is gone: not even the KEK can decrypt it now.
    expect(row).toMatchObject({ wrapped_dek: null, destroyed_at: expect.any(String) });
    expect(row!.ciphertext).toEqual(expect.any(String));
    const events = await json(
      await api("GET", `/v1/projects/${project}/audit?action=project.maintain`),
    );
    expect(events.items[0]).toMatchObject({ actor: { kind: "system", id: "cron" }, result: "ok" });
    // The first run found nothing to do and left no event: only the purge is in the chain.
    expect(events.items).toHaveLength(1);
  });

  it("refuses nonsense retention settings", async () => {
    const project = await newProject("cron");
    await expectError(
      await api("PATCH", `/v1/projects/${project}`, { body: { settings: { max_versions: 0 } } }),
      422,
      "validation_failed",
    );
  });
});

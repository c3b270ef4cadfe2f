import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, json, newProject, secretsPath } from "../helpers.js";

const put = (project: string, key: string, value: string) =>
  api("PUT", `${secretsPath(project)}/${key}`, { body: { value } });

describe("delete, restore and purge", () => {
  it("soft-deletes a key so reads answer 404, and restores it with its history", async () => {
    const project = await newProject();
    await put(project, "K", "one");
    await put(project, "K", "two");
    expect((await api("DELETE", `${secretsPath(project)}/K`)).status).toBe(204);
    await expectError(await api("GET", `${secretsPath(project)}/K`), 404, "not_found");
    expect((await json(await api("GET", secretsPath(project)))).items).toEqual([]);
    await expectError(await api("DELETE", `${secretsPath(project)}/K`), 404, "not_found");

    const restored = await api("POST", `${secretsPath(project)}/K/restore`);
    expect(restored.status).toBe(200);
    expect(await json(restored)).toEqual({ key: "K", version: 2 });
    expect((await json(await api("GET", `${secretsPath(project)}/K`))).value).toBe("two");
    await expectError(await api("POST", `${secretsPath(project)}/K/restore`), 409, "conflict");
  });

  it("undeletes a soft-deleted key when it is written again, continuing its versions", async () => {
    const project = await newProject();
    await put(project, "K", "one");
    await api("DELETE", `${secretsPath(project)}/K`);
    const again = await put(project, "K", "two");
    expect(again.status).toBe(201);
    expect(await json(again)).toMatchObject({ version: 2 });
    expect((await json(await api("GET", `${secretsPath(project)}/K`))).value).toBe("two");
  });

  it("purges every version by deleting its wrapped DEK", async () => {
    const project = await newProject();
    await put(project, "K", "one");
    await put(project, "K", "two");
    expect((await api("DELETE", `${secretsPath(project)}/K?purge=true`)).status).toBe(204);
    await expectError(await api("GET", `${secretsPath(project)}/K`), 404, "not_found");
    await expectError(await api("POST", `${secretsPath(project)}/K/restore`), 404, "not_found");
    const rows = await env.DB.prepare(
      `SELECT v.wrapped_dek, v.destroyed_at FROM secret_versions v
       JOIN secrets s ON s.id = v.secret_id WHERE s.key = 'K'
       AND s.environment_id IN (SELECT e.id FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.slug = ?)`,
    )
      .bind(project)
      .all();
    expect(rows.results).toHaveLength(2);
    for (const row of rows.results) {
      expect(row.wrapped_dek).toBeNull();
      expect(row.destroyed_at).toEqual(expect.any(String));
    }
  });
});

describe("versions, rollback and revocation", () => {
  it("lists versions newest first without values", async () => {
    const project = await newProject();
    for (const v of ["a", "b", "c"]) await put(project, "K", v);
    const res = await json(await api("GET", `${secretsPath(project)}/K/versions`));
    expect(res.items.map((i: any) => i.version)).toEqual([3, 2, 1]);
    expect(JSON.stringify(res)).not.toMatch(/"value"/);
    const paged = await json(await api("GET", `${secretsPath(project)}/K/versions?limit=2`));
    expect(paged.items.map((i: any) => i.version)).toEqual([3, 2]);
    const next = await json(
      await api("GET", `${secretsPath(project)}/K/versions?limit=2&cursor=${paged.next_cursor}`),
    );
    expect(next.items.map((i: any) => i.version)).toEqual([1]);
  });

  it("rolls back by writing an old value as a new version", async () => {
    const project = await newProject();
    await put(project, "K", "good");
    await put(project, "K", "bad");
    const res = await api("POST", `${secretsPath(project)}/K/rollback`, { body: { version: 1 } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ key: "K", version: 3 });
    expect(await json(await api("GET", `${secretsPath(project)}/K`))).toMatchObject({
      value: "good",
      version: 3,
    });
    await expectError(
      await api("POST", `${secretsPath(project)}/K/rollback`, { body: { version: 7 } }),
      404,
      "not_found",
    );
  });

  it("answers 410 for a revoked version and never falls back to an older value", async () => {
    const project = await newProject();
    await put(project, "K", "old");
    await put(project, "K", "leaked");
    const revoke = await api("POST", `${secretsPath(project)}/K/versions/2/revoke`);
    expect(revoke.status).toBe(200);
    expect(await json(revoke)).toMatchObject({
      key: "K",
      version: 2,
      revoked_at: expect.any(String),
    });

    await expectError(await api("GET", `${secretsPath(project)}/K`), 410, "gone");
    await expectError(await api("GET", `${secretsPath(project)}/K?version=2`), 410, "gone");
    expect((await json(await api("GET", `${secretsPath(project)}/K?version=1`))).value).toBe("old");

    const list = await json(await api("GET", `${secretsPath(project)}?values=true`));
    expect(list.items[0]).toMatchObject({ key: "K", revoked: true });
    expect(list.items[0]).not.toHaveProperty("value");

    await expectError(
      await api("POST", `${secretsPath(project)}/K/rollback`, { body: { version: 2 } }),
      410,
      "gone",
    );
    await api("POST", `${secretsPath(project)}/K/rollback`, { body: { version: 1 } });
    expect((await json(await api("GET", `${secretsPath(project)}/K`))).value).toBe("old");
  });

  it("answers 409 to rotate while a secret has no rotation policy, 404 when it does not exist", async () => {
    const project = await newProject();
    await put(project, "K", "v");
    await expectError(await api("POST", `${secretsPath(project)}/K/rotate`), 409, "conflict");
    await expectError(await api("POST", `${secretsPath(project)}/NOPE/rotate`), 404, "not_found");
  });
});

describe("atomicity", () => {
  it("lands nothing of a bulk change whose D1 batch fails midway", async () => {
    const project = await newProject();
    await put(project, "A", "before");
    const before = await api("GET", `${secretsPath(project)}?values=true`);
    // Fault injection through the test database only: a trigger that aborts
    // the insert of one key, after other statements of the batch have run.
    await env.DB.exec(
      "CREATE TRIGGER fail_boom BEFORE INSERT ON secret_versions WHEN (SELECT key FROM secrets WHERE id = NEW.secret_id) = 'BOOM' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    );
    try {
      const res = await api("PATCH", secretsPath(project), {
        body: { set: { A: "after", B: "new", BOOM: "x" } },
      });
      await expectError(res, 500, "internal_error");
    } finally {
      await env.DB.exec("DROP TRIGGER fail_boom;");
    }
    const after = await api("GET", `${secretsPath(project)}?values=true`, {
      headers: { "If-None-Match": before.headers.get("ETag")! },
    });
    expect(after.status).toBe(304);
    const list = await json(await api("GET", `${secretsPath(project)}?values=true`));
    expect(list.items.map((i: any) => [i.key, i.value, i.version])).toEqual([["A", "before", 1]]);
  });
});

import { describe, expect, it } from "vitest";
import { api, expectError, json, newProject, secretsPath } from "../helpers.js";

async function put(project: string, key: string, body: unknown, headers?: Record<string, string>) {
  return api("PUT", `${secretsPath(project)}/${key}`, { body, headers });
}

describe("writing and reading secrets", () => {
  it("answers 201 for the first version and 200 with the next version number after", async () => {
    const project = await newProject();
    const first = await put(project, "DB_URL", { value: "postgres://one" });
    expect(first.status).toBe(201);
    expect(first.headers.get("ETag")).toBe('"1"');
    const firstBody = await json(first);
    expect(firstBody).toMatchObject({ key: "DB_URL", version: 1 });
    expect(firstBody).not.toHaveProperty("value");
    const second = await put(project, "DB_URL", { value: "postgres://two" });
    expect(second.status).toBe(200);
    expect(await json(second)).toMatchObject({ version: 2 });

    const get = await api("GET", `${secretsPath(project)}/DB_URL`);
    expect(get.status).toBe(200);
    expect(get.headers.get("ETag")).toBe('"2"');
    expect(get.headers.get("Cache-Control")).toBe("no-store");
    expect(await json(get)).toMatchObject({ key: "DB_URL", value: "postgres://two", version: 2 });
    const old = await api("GET", `${secretsPath(project)}/DB_URL?version=1`);
    expect(await json(old)).toMatchObject({ value: "postgres://one", version: 1 });
    await expectError(
      await api("GET", `${secretsPath(project)}/DB_URL?version=9`),
      404,
      "not_found",
    );
  });

  it("keeps tags and notes across versions unless a write replaces them", async () => {
    const project = await newProject();
    await put(project, "K", { value: "a", tags: ["db", "prod"], note: "rotated by ops" });
    await put(project, "K", { value: "b" });
    expect(await json(await api("GET", `${secretsPath(project)}/K`))).toMatchObject({
      tags: ["db", "prod"],
      note: "rotated by ops",
    });
    await put(project, "K", { value: "c", tags: [] });
    expect((await json(await api("GET", `${secretsPath(project)}/K`))).tags).toEqual([]);
  });

  it("generates values with the requested length and charset", async () => {
    const project = await newProject();
    const res = await put(project, "TOKEN", { generate: { length: 48, charset: "hex" } });
    expect(res.status).toBe(201);
    const { value } = await json(await api("GET", `${secretsPath(project)}/TOKEN`));
    expect(value).toMatch(/^[0-9a-f]{48}$/);
    const defaults = await put(project, "DEFAULTED", { generate: {} });
    expect(defaults.status).toBe(201);
    expect((await json(await api("GET", `${secretsPath(project)}/DEFAULTED`))).value).toMatch(
      /^[A-Za-z0-9]{32}$/,
    );
  });

  it("lists keys without values unless values=true, in key order with cursors", async () => {
    const project = await newProject();
    for (const key of ["C", "A", "B"]) await put(project, key, { value: `v-${key}` });
    const keysOnly = await json(await api("GET", secretsPath(project)));
    expect(keysOnly.items.map((i: any) => i.key)).toEqual(["A", "B", "C"]);
    expect(keysOnly.items[0]).not.toHaveProperty("value");
    expect(keysOnly.items[0]).toMatchObject({ version: 1, tags: [], note: null });

    const first = await json(await api("GET", `${secretsPath(project)}?values=true&limit=2`));
    expect(first.items.map((i: any) => [i.key, i.value])).toEqual([
      ["A", "v-A"],
      ["B", "v-B"],
    ]);
    expect(first.next_cursor).toEqual(expect.any(String));
    const rest = await json(
      await api("GET", `${secretsPath(project)}?values=true&limit=2&cursor=${first.next_cursor}`),
    );
    expect(rest.items.map((i: any) => i.key)).toEqual(["C"]);
    expect(rest.next_cursor).toBeNull();
  });

  it("answers 304 to a list revalidation until a write changes the environment", async () => {
    const project = await newProject();
    await put(project, "A", { value: "1" });
    const list = await api("GET", `${secretsPath(project)}?values=true`);
    const etag = list.headers.get("ETag")!;
    expect(etag).toMatch(/^".+"$/);
    const keysEtag = (await api("GET", secretsPath(project))).headers.get("ETag");
    expect(keysEtag).not.toBe(etag);

    const same = await api("GET", `${secretsPath(project)}?values=true`, {
      headers: { "If-None-Match": etag },
    });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");

    await put(project, "B", { value: "2" });
    const changed = await api("GET", `${secretsPath(project)}?values=true`, {
      headers: { "If-None-Match": etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("ETag")).not.toBe(etag);
  });

  it("keeps environments apart", async () => {
    const project = await newProject();
    await put(project, "SHARED", { value: "dev-value" });
    await api("PUT", `${secretsPath(project, "production")}/SHARED`, {
      body: { value: "prod-value" },
    });
    expect((await json(await api("GET", `${secretsPath(project)}/SHARED`))).value).toBe(
      "dev-value",
    );
    expect(
      (await json(await api("GET", `${secretsPath(project, "production")}/SHARED`))).value,
    ).toBe("prod-value");
    await expectError(
      await api("GET", `${secretsPath(project, "staging")}/SHARED`),
      404,
      "not_found",
    );
  });
});

describe("check-and-set", () => {
  it("writes with a matching If-Match and answers 412 to a stale one, changing nothing", async () => {
    const project = await newProject();
    await put(project, "K", { value: "one" });
    const ok = await put(project, "K", { value: "two" }, { "If-Match": '"1"' });
    expect(ok.status).toBe(200);
    const stale = await put(project, "K", { value: "three" }, { "If-Match": '"1"' });
    await expectError(stale, 412, "precondition_failed");
    expect(await json(await api("GET", `${secretsPath(project)}/K`))).toMatchObject({
      value: "two",
      version: 2,
    });
  });

  it("answers 412 to If-Match on a key that does not exist", async () => {
    const project = await newProject();
    await expectError(
      await put(project, "NEW", { value: "x" }, { "If-Match": '"1"' }),
      412,
      "precondition_failed",
    );
    await expectError(await api("GET", `${secretsPath(project)}/NEW`), 404, "not_found");
  });

  it("creates with If-None-Match: * only when the key does not exist", async () => {
    const project = await newProject();
    expect((await put(project, "ONCE", { value: "a" }, { "If-None-Match": "*" })).status).toBe(201);
    await expectError(
      await put(project, "ONCE", { value: "b" }, { "If-None-Match": "*" }),
      412,
      "precondition_failed",
    );
    expect((await json(await api("GET", `${secretsPath(project)}/ONCE`))).value).toBe("a");
  });
});

describe("bulk changes", () => {
  it("sets and deletes many keys in one change", async () => {
    const project = await newProject();
    await put(project, "OLD", { value: "x" });
    await put(project, "KEEP", { value: "1" });
    const res = await api("PATCH", secretsPath(project), {
      body: { set: { A: "a", B: "b", KEEP: "2" }, delete: ["OLD"] },
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ changed: 4 });
    const list = await json(await api("GET", `${secretsPath(project)}?values=true`));
    expect(list.items.map((i: any) => [i.key, i.value, i.version])).toEqual([
      ["A", "a", 1],
      ["B", "b", 1],
      ["KEEP", "2", 2],
    ]);
  });

  it("changes nothing when one key to delete does not exist", async () => {
    const project = await newProject();
    await put(project, "A", { value: "before" });
    const body = await expectError(
      await api("PATCH", secretsPath(project), {
        body: { set: { A: "after", B: "new" }, delete: ["MISSING"] },
      }),
      404,
      "not_found",
    );
    expect(body.error.details).toEqual({ keys: ["MISSING"] });
    const list = await json(await api("GET", `${secretsPath(project)}?values=true`));
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ key: "A", value: "before", version: 1 });
  });

  it("refuses a key that is both set and deleted", async () => {
    const project = await newProject();
    await put(project, "A", { value: "x" });
    await expectError(
      await api("PATCH", secretsPath(project), { body: { set: { A: "y" }, delete: ["A"] } }),
      422,
      "validation_failed",
    );
    expect((await json(await api("GET", `${secretsPath(project)}/A`))).value).toBe("x");
  });

  it("refuses more than 1,000 keys with 413", async () => {
    const project = await newProject();
    const set = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`K${i}`, "v"]));
    await expectError(
      await api("PATCH", secretsPath(project), { body: { set } }),
      413,
      "payload_too_large",
    );
    expect((await json(await api("GET", secretsPath(project)))).items).toEqual([]);
  });

  it("lands 1,000 keys at once", async () => {
    const project = await newProject();
    const set = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`K${i}`, `value-${i}`]));
    expect((await api("PATCH", secretsPath(project), { body: { set } })).status).toBe(200);
    const list = await json(await api("GET", `${secretsPath(project)}?values=true&limit=1000`));
    expect(list.items).toHaveLength(1000);
    expect(list.items.every((i: any) => i.value === set[i.key])).toBe(true);
  });
});

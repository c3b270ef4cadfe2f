import { describe, expect, it } from "vitest";
import { api, json, newProject, secretsPath } from "../helpers.js";

describe("one writer per project", () => {
  it("gives 50 concurrent PUTs of one key the versions 1..50, no gap, no duplicate", async () => {
    const project = await newProject();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api("PUT", `${secretsPath(project)}/RACE`, { body: { value: `value-${i}` } }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(49);
    const versions = (await Promise.all(results.map((r) => json(r)))).map((b) => b.version);
    expect([...versions].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );

    const history = await json(await api("GET", `${secretsPath(project)}/RACE/versions`));
    expect(history.items.map((i: any) => i.version)).toEqual(
      Array.from({ length: 50 }, (_, i) => 50 - i),
    );
    // Every stored version decrypts to the value its own write sent.
    const bodies = await Promise.all(
      versions.map((v) => api("GET", `${secretsPath(project)}/RACE?version=${v}`).then(json)),
    );
    expect(new Set(bodies.map((b) => b.value)).size).toBe(50);
  });

  it("lets exactly one of 50 concurrent PUTs with the same If-Match win; 49 get 412", async () => {
    const project = await newProject();
    await api("PUT", `${secretsPath(project)}/CAS`, { body: { value: "base" } });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api("PUT", `${secretsPath(project)}/CAS`, {
          body: { value: `contender-${i}` },
          headers: { "If-Match": '"1"' },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(49);
    const winner = results[statuses.indexOf(200)]!;
    expect(await json(winner)).toMatchObject({ version: 2 });

    const history = await json(await api("GET", `${secretsPath(project)}/CAS/versions`));
    expect(history.items.map((i: any) => i.version)).toEqual([2, 1]);
    const current = await json(await api("GET", `${secretsPath(project)}/CAS`));
    expect(current.version).toBe(2);
    expect(current.value).toMatch(/^contender-\d+$/);
  });
});

import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, newProject, secretsPath } from "../helpers.js";

const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

/** The base64 forms a canary takes inside a longer base64 string, at each of the 3 offsets. */
function base64Forms(canary: string): string[] {
  return ["", "x", "xx"].map((pad) => {
    const encoded = b64(pad + canary).replace(/=+$/, "");
    // Drop the characters that mix with the padding prefix and the unknown suffix.
    return encoded.slice(Math.ceil((pad.length * 4) / 3) + 1, -2);
  });
}

describe("no plaintext at rest", () => {
  it("stores a canary value nowhere in D1, neither plain nor base64-encoded nor hex", async () => {
    const canary = `canary-${crypto.randomUUID()}`;
    const project = await newProject();
    await api("PUT", `${secretsPath(project)}/CANARY`, { body: { value: canary, note: "n" } });
    await api("PATCH", secretsPath(project), { body: { set: { BULK_CANARY: canary } } });
    await api("POST", `${secretsPath(project)}/CANARY/rollback`, { body: { version: 1 } });
    // The read path must not leave it behind either.
    await api("GET", `${secretsPath(project)}?values=true`);
    await api("GET", `/v1/projects/${project}/environments/development/export?format=json`);

    const needles = [
      canary,
      ...base64Forms(canary),
      [...new TextEncoder().encode(canary)].map((b) => b.toString(16).padStart(2, "0")).join(""),
    ];
    const tables = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'",
    ).all<{ name: string }>();
    expect(tables.results.map((t) => t.name)).toContain("secret_versions");
    let cells = 0;
    for (const { name } of tables.results) {
      const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
      for (const row of rows.results) {
        for (const cell of Object.values(row)) {
          cells++;
          const text = typeof cell === "string" ? cell : JSON.stringify(cell);
          for (const needle of needles) expect(text ?? "").not.toContain(needle);
        }
      }
    }
    expect(cells).toBeGreaterThan(50);
    // The checks can see a canary: the same search finds it in a row that holds it.
    expect(`prefix${b64("xx" + canary)}`).toContain(base64Forms(canary)[2]);
  });
});

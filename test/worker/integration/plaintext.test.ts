import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
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

describe("no plaintext in logs or errors", () => {
  it("logs no value and answers integrity_error without it when a ciphertext is tampered with", async () => {
    const canary = `canary-${crypto.randomUUID()}`;
    const logged: string[] = [];
    const methods = ["log", "info", "warn", "error", "debug"] as const;
    const spies = methods.map((m) =>
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        logged.push(
          args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "),
        );
      }),
    );
    try {
      const project = await newProject();
      await api("PUT", `${secretsPath(project)}/CANARY`, { body: { value: canary } });
      await api("PUT", `${secretsPath(project)}/OTHER`, { body: { value: "other" } });
      // Move OTHER's ciphertext onto CANARY's row: the AAD no longer matches.
      const idOf = async (key: string) =>
        (await env.DB.prepare(
          `SELECT s.id FROM secrets s JOIN environments e ON e.id = s.environment_id
             JOIN projects p ON p.id = e.project_id WHERE p.slug = ? AND s.key = ?`,
        )
          .bind(project, key)
          .first<{ id: string }>())!.id;
      await env.DB.prepare(
        `UPDATE secret_versions SET ciphertext = (SELECT ciphertext FROM secret_versions WHERE secret_id = ?)
         WHERE secret_id = ?`,
      )
        .bind(await idOf("OTHER"), await idOf("CANARY"))
        .run();
      const read = await api("GET", `${secretsPath(project)}/CANARY`);
      expect(read.status).toBe(500);
      const body = await read.text();
      expect(JSON.parse(body).error.code).toBe("integrity_error");
      const list = await api("GET", `${secretsPath(project)}?values=true`);
      expect(list.status).toBe(500);
      expect(await list.text()).not.toContain("other");

      // A write whose batch fails must not log the value it carried.
      await env.DB.exec(
        "CREATE TRIGGER fail_all BEFORE INSERT ON secret_versions BEGIN SELECT RAISE(ABORT, 'injected'); END;",
      );
      try {
        const failed = await api("PUT", `${secretsPath(project)}/NEXT`, {
          body: { value: canary },
        });
        expect(failed.status).toBe(500);
        expect(await failed.text()).not.toContain(canary);
      } finally {
        await env.DB.exec("DROP TRIGGER fail_all;");
      }
      expect(body).not.toContain(canary);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line).not.toContain(canary);
  });
});

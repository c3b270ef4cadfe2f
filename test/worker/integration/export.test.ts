import { parse as parseDotenv } from "dotenv";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { api, json, newProject, secretsPath } from "../helpers.js";

const VALUES = {
  PLAIN: "hello",
  MULTILINE: "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
  QUOTES: `it's "quoted"`,
  DOLLAR: "pa$$word and ${HOME}",
  EQUALS: "a=b=c",
  "dotted.key": "dots",
};

async function seeded() {
  const project = await newProject();
  await api("PATCH", secretsPath(project), { body: { set: VALUES } });
  return project;
}

const exportPath = (project: string, format: string) =>
  `/v1/projects/${project}/environments/development/export?format=${format}`;

describe("export", () => {
  it("renders json as a flat object", async () => {
    const project = await seeded();
    const res = await api("GET", exportPath(project, "json"));
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await json(res)).toEqual(VALUES);
  });

  it("renders yaml as a flat mapping", async () => {
    const project = await seeded();
    const res = await api("GET", exportPath(project, "yaml"));
    expect(res.headers.get("Content-Type")).toMatch(/^application\/yaml/);
    expect(parseYaml(new TextDecoder().decode(await res.arrayBuffer()))).toEqual(VALUES);
  });

  it("renders dotenv that the dotenv package reads back exactly", async () => {
    const project = await seeded();
    const res = await api("GET", exportPath(project, "dotenv"));
    const text = await res.text();
    expect(text).toContain('PLAIN="hello"\n');
    expect(parseDotenv(text)).toEqual(VALUES);
    expect(res.headers.get("Qala-Skipped-Keys")).toBeNull();
  });

  it("renders shell exports and names the keys that are not shell identifiers", async () => {
    const project = await seeded();
    const res = await api("GET", exportPath(project, "shell"));
    const text = await res.text();
    expect(text).toContain("export DOLLAR='pa$$word and ${HOME}'\n");
    expect(text).not.toContain("dotted.key");
    expect(res.headers.get("Qala-Skipped-Keys")).toBe("dotted.key");
  });

  it("leaves out revoked keys and names them in Qala-Skipped-Keys", async () => {
    const project = await seeded();
    await api("POST", `${secretsPath(project)}/PLAIN/versions/1/revoke`);
    const res = await api("GET", exportPath(project, "json"));
    expect(res.headers.get("Qala-Skipped-Keys")).toBe("PLAIN");
    expect(await json(res)).not.toHaveProperty("PLAIN");
  });

  it("has an ETag per format and answers 304 until the environment changes", async () => {
    const project = await seeded();
    const jsonRes = await api("GET", exportPath(project, "json"));
    const dotenvRes = await api("GET", exportPath(project, "dotenv"));
    const etag = jsonRes.headers.get("ETag")!;
    expect(etag).not.toBe(dotenvRes.headers.get("ETag"));
    const again = await api("GET", exportPath(project, "json"), {
      headers: { "If-None-Match": etag },
    });
    expect(again.status).toBe(304);
    await api("DELETE", `${secretsPath(project)}/PLAIN`);
    const changed = await api("GET", exportPath(project, "json"), {
      headers: { "If-None-Match": etag },
    });
    expect(changed.status).toBe(200);
    expect(await json(changed)).not.toHaveProperty("PLAIN");
  });

  it("refuses an unknown format with 422", async () => {
    const project = await seeded();
    expect((await api("GET", exportPath(project, "toml"))).status).toBe(422);
  });
});

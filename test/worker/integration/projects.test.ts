import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, json, newProject, ORIGIN, secretsPath } from "../helpers.js";

describe("projects", () => {
  it("creates a project with development, staging and production, each with its own KEK", async () => {
    const res = await api("POST", "/v1/projects", { body: { slug: "acme-api", name: "Acme API" } });
    expect(res.status).toBe(201);
    const project = await json(res);
    expect(project).toMatchObject({ slug: "acme-api", name: "Acme API", settings: {} });
    expect(project.id).toMatch(/^prj_/);
    expect(project.environments.map((e: any) => e.slug)).toEqual([
      "development",
      "staging",
      "production",
    ]);
    const keks = await env.DB.prepare(
      "SELECT scope_id, version, state, wrapped_by FROM keys WHERE scope = 'environment'",
    ).all<{ scope_id: string; version: number; state: string; wrapped_by: string }>();
    for (const e of project.environments) {
      expect(keks.results).toContainEqual({
        scope_id: e.id,
        version: 1,
        state: "active",
        wrapped_by: "test2",
      });
    }
  });

  it("lists, reads by slug or id, and pages", async () => {
    const a = await newProject("list");
    const b = await newProject("list");
    const all = await json(await api("GET", "/v1/projects?limit=1000"));
    const slugs = all.items.map((p: any) => p.slug);
    expect(slugs).toEqual(expect.arrayContaining([a, b]));
    expect([...slugs].sort()).toEqual(slugs);
    const bySlug = await json(await api("GET", `/v1/projects/${a}`));
    const byId = await json(await api("GET", `/v1/projects/${bySlug.id}`));
    expect(byId).toEqual(bySlug);
    const page = await json(await api("GET", "/v1/projects?limit=1"));
    expect(page.items).toHaveLength(1);
    expect(page.next_cursor).toEqual(expect.any(String));
  });

  it("renames through PATCH, stores the settings it enforces and refuses unknown ones", async () => {
    const project = await newProject();
    const renamed = await api("PATCH", `/v1/projects/${project}`, { body: { name: "Renamed" } });
    expect(renamed.status).toBe(200);
    expect(await json(renamed)).toMatchObject({ slug: project, name: "Renamed", settings: {} });
    const refused = await expectError(
      await api("PATCH", `/v1/projects/${project}`, {
        body: { settings: { audit_retention: 90 } },
      }),
      422,
      "validation_failed",
    );
    expect(JSON.stringify(refused.error.details)).toContain("audit_retention");
    expect((await json(await api("GET", `/v1/projects/${project}`))).settings).toEqual({});
    const kept = await api("PATCH", `/v1/projects/${project}`, {
      body: { settings: { audit_retention_days: 90 } },
    });
    expect((await json(kept)).settings).toEqual({ audit_retention_days: 90 });
    await expectError(
      await api("PATCH", `/v1/projects/${project}`, { body: { slug: "new-slug" } }),
      422,
      "validation_failed",
    );
    await expectError(
      await api("POST", "/v1/projects", {
        body: { slug: "with-settings", settings: { rate_limit: { rps: 1 } } },
      }),
      422,
      "validation_failed",
    );
  });

  it("deletes a project with its environments, secrets and KEKs", async () => {
    const project = await newProject();
    const id = (await json(await api("GET", `/v1/projects/${project}`))).id;
    await api("PUT", `${secretsPath(project)}/K`, { body: { value: "v" } });
    expect((await api("DELETE", `/v1/projects/${project}`)).status).toBe(204);
    await expectError(await api("GET", `/v1/projects/${project}`), 404, "not_found");
    const left = await env.DB.prepare(
      `SELECT (SELECT COUNT(*) FROM environments WHERE project_id = ?1) AS envs,
              (SELECT COUNT(*) FROM keys WHERE scope = 'environment' AND scope_id NOT IN (SELECT id FROM environments)) AS orphan_keys,
              (SELECT COUNT(*) FROM secrets WHERE environment_id NOT IN (SELECT id FROM environments)) AS orphan_secrets`,
    )
      .bind(id)
      .first();
    expect(left).toEqual({ envs: 0, orphan_keys: 0, orphan_secrets: 0 });
    // The slug is free again.
    expect((await api("POST", "/v1/projects", { body: { slug: project } })).status).toBe(201);
  });
});

describe("environments", () => {
  it("creates, lists in order and deletes environments", async () => {
    const project = await newProject();
    const created = await api("POST", `/v1/projects/${project}/environments`, {
      body: { slug: "preview", name: "Preview" },
    });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ slug: "preview", name: "Preview", position: 3 });
    const list = await json(await api("GET", `/v1/projects/${project}/environments`));
    expect(list.items.map((e: any) => e.slug)).toEqual([
      "development",
      "staging",
      "production",
      "preview",
    ]);
    await api("PUT", `${secretsPath(project, "preview")}/K`, { body: { value: "v" } });
    expect((await json(await api("GET", `${secretsPath(project, "preview")}/K`))).value).toBe("v");
    expect((await api("DELETE", `/v1/projects/${project}/environments/staging`)).status).toBe(204);
  });

  it("answers 409 when deleting an environment that holds secrets, unless force=true", async () => {
    const project = await newProject();
    await api("PUT", `${secretsPath(project)}/K`, { body: { value: "v" } });
    await expectError(
      await api("DELETE", `/v1/projects/${project}/environments/development`),
      409,
      "conflict",
    );
    expect((await json(await api("GET", `${secretsPath(project)}/K`))).value).toBe("v");
    const forced = await api(
      "DELETE",
      `/v1/projects/${project}/environments/development?force=true`,
    );
    expect(forced.status).toBe(204);
    await expectError(await api("GET", secretsPath(project)), 404, "not_found");
  });

  it("counts a soft-deleted secret as held (it can still be restored)", async () => {
    const project = await newProject();
    await api("PUT", `${secretsPath(project)}/K`, { body: { value: "v" } });
    await api("DELETE", `${secretsPath(project)}/K`);
    await expectError(
      await api("DELETE", `/v1/projects/${project}/environments/development`),
      409,
      "conflict",
    );
  });
});

describe("OpenAPI", () => {
  it("serves a 3.1 document generated from the route schemas", async () => {
    const doc = await json(await SELF.fetch(`${ORIGIN}/openapi.json`));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/bootstrap",
        "/v1/projects",
        "/v1/projects/{project}/environments/{env}/secrets",
        "/v1/projects/{project}/environments/{env}/secrets/{key}",
        "/v1/projects/{project}/environments/{env}/export",
      ]),
    );
    const put = doc.paths["/v1/projects/{project}/environments/{env}/secrets/{key}"].put;
    expect(put.requestBody.content["application/json"].schema).toBeDefined();
  });

  it("renders the document at /docs", async () => {
    const res = await SELF.fetch(`${ORIGIN}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("/openapi.json");
  });
});

describe("CORS", () => {
  it("answers browsers from QALA_CORS_ORIGINS only, exposing ETag and X-Request-Id", async () => {
    const preflight = await SELF.fetch(`${ORIGIN}/v1/projects`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://dashboard.qala.test",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization, If-None-Match",
      },
    });
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe(
      "https://dashboard.qala.test",
    );
    expect(preflight.headers.get("Access-Control-Allow-Headers")).toMatch(/If-None-Match/);
    const simple = await SELF.fetch(`${ORIGIN}/health`, {
      headers: { Origin: "https://dashboard.qala.test" },
    });
    expect(simple.headers.get("Access-Control-Expose-Headers")).toMatch(/ETag/);
    const other = await SELF.fetch(`${ORIGIN}/health`, {
      headers: { Origin: "https://evil.example" },
    });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const server = await SELF.fetch(`${ORIGIN}/health`);
    expect(server.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

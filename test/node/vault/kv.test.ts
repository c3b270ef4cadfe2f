// Vault KV v2 compatibility, driven by a real Vault client from npm
// (node-vault) against the hosted Worker with VAULT_ADDR=<qala>/vault.
import nodeVault from "node-vault";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createClient } from "../../../src/sdk/index.js";

const url = inject("qalaUrl");
let project = "";
let token = "";
let readerToken = "";

type VaultClient = ReturnType<typeof nodeVault>;
const client = (vaultToken: string): VaultClient =>
  nodeVault({
    apiVersion: "v1",
    endpoint: `${url}/vault`,
    token: vaultToken,
    // Cloudflare's runtime refuses the LIST verb: list with GET ?list=1.
    noCustomHTTPVerbs: true,
  });

/** The status and Vault `errors` of a refused call. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; errors: unknown }> {
  try {
    await call;
  } catch (error) {
    const response = (error as { response?: { statusCode: number; body: any } }).response;
    if (response) return { status: response.statusCode, errors: response.body?.errors };
    throw error;
  }
  throw new Error("the call succeeded");
}

beforeAll(async () => {
  const admin = createClient({ url, token: inject("adminToken") });
  project = `kv-${Date.now().toString(36)}`;
  await admin.projects.create({ slug: project });
  token = (await admin.tokens.create(project, { name: "vault", role: "admin" })).token;
  readerToken = (
    await admin.tokens.create(project, {
      name: "reader",
      role: "viewer",
      environments: ["staging"],
    })
  ).token;
});

describe("Vault KV v2 through node-vault", () => {
  it("writes with cas, reads back documents and plain values, and keeps versions", async () => {
    const vault = client(token);
    const path = `${project}/data/production/DB`;
    const first = await vault.write(path, {
      data: { value: "postgres://one" },
      options: { cas: 0 },
    });
    expect(first.data).toMatchObject({ version: 1, destroyed: false, deletion_time: "" });

    // cas 0 on an existing secret, and a stale cas: 400 with Vault's message.
    for (const cas of [0, 5]) {
      const refused = await refusal(vault.write(path, { data: { value: "x" }, options: { cas } }));
      expect(refused).toEqual({
        status: 400,
        errors: ["check-and-set parameter did not match the current version"],
      });
    }
    const doc = { username: "app", password: "s3cret", port: 5432 };
    expect((await vault.write(path, { data: doc, options: { cas: 1 } })).data.version).toBe(2);

    const latest = await vault.read(path);
    expect(latest.data).toEqual({
      data: doc,
      metadata: expect.objectContaining({ version: 2, destroyed: false, deletion_time: "" }),
    });
    expect((await vault.read(`${path}?version=1`)).data.data).toEqual({ value: "postgres://one" });

    // Qalá's own API sees the same secret: a plain value, and the document as JSON.
    const qala = createClient({ url, token });
    expect((await qala.secrets.get(project, "production", "DB", 1)).value).toBe("postgres://one");
    expect(JSON.parse((await qala.secrets.get(project, "production", "DB")).value)).toEqual(doc);

    // Patch (JSON merge patch): null removes a field, the rest merges.
    const patched = await vault.update(path, { data: { password: "rotated", port: null } });
    expect(patched.data.version).toBe(3);
    expect((await vault.read(path)).data.data).toEqual({ username: "app", password: "rotated" });

    const metadata = await vault.read(`${project}/metadata/production/DB`);
    expect(metadata.data).toMatchObject({
      current_version: 3,
      oldest_version: 1,
      versions: {
        "1": { destroyed: false, deletion_time: "" },
        "2": { destroyed: false },
        "3": { destroyed: false },
      },
    });
  });

  it("lists environments and keys with GET ?list, and answers the CLI's mount probe", async () => {
    const vault = client(token);
    await vault.write(`${project}/data/staging/API_KEY`, { data: { value: "k" } });
    await vault.write(`${project}/data/staging/OTHER`, { data: { value: "o" } });
    const envs = await vault.list(`${project}/metadata/`);
    expect(envs.data.keys).toEqual(
      expect.arrayContaining(["development/", "staging/", "production/"]),
    );
    const keys = await vault.list(`${project}/metadata/staging`);
    expect(keys.data.keys).toEqual(["API_KEY", "OTHER"]);

    const mount = await vault.read(`sys/internal/ui/mounts/${project}/staging/API_KEY`);
    expect(mount.data).toMatchObject({
      path: `${project}/`,
      type: "kv",
      options: { version: "2" },
    });

    // An empty list is a 404, as in Vault.
    expect((await refusal(vault.list(`${project}/metadata/development`))).status).toBe(404);
  });

  it("deletes, undeletes and destroys versions as Vault does", async () => {
    const vault = client(token);
    const path = `${project}/data/production/LIFE`;
    await vault.write(path, { data: { value: "v1" } });
    await vault.write(path, { data: { value: "v2" } });

    // DELETE data: the latest version is soft-deleted; reading it is 404 with its metadata.
    await vault.delete(path);
    const gone = await refusal(vault.read(path));
    expect(gone.status).toBe(404);
    const raw = await fetch(`${url}/vault/v1/${path}`, { headers: { "X-Vault-Token": token } });
    expect(raw.status).toBe(404);
    const body = (await raw.json()) as any;
    expect(body.data).toMatchObject({ data: null, metadata: { version: 2, destroyed: false } });
    expect(body.data.metadata.deletion_time).not.toBe("");
    // Qalá's own readers see the key as deleted too.
    const qala = createClient({ url, token });
    await expect(qala.secrets.get(project, "production", "LIFE")).rejects.toMatchObject({
      status: 404,
    });
    expect((await vault.read(`${path}?version=1`)).data.data).toEqual({ value: "v1" });

    await vault.write(`${project}/undelete/production/LIFE`, { versions: [2] });
    expect((await vault.read(path)).data.data).toEqual({ value: "v2" });
    expect((await qala.secrets.get(project, "production", "LIFE")).value).toBe("v2");

    // Destroy v1 for good: 404 with destroyed: true, and undelete cannot bring it back.
    await vault.write(`${project}/destroy/production/LIFE`, { versions: [1] });
    const destroyed = await fetch(`${url}/vault/v1/${path}?version=1`, {
      headers: { "X-Vault-Token": token },
    });
    expect(destroyed.status).toBe(404);
    expect(((await destroyed.json()) as any).data.metadata).toMatchObject({
      version: 1,
      destroyed: true,
    });
    await vault.write(`${project}/undelete/production/LIFE`, { versions: [1] });
    expect((await refusal(vault.read(`${path}?version=1`))).status).toBe(404);
    const metadata = await vault.read(`${project}/metadata/production/LIFE`);
    expect(metadata.data.versions["1"].destroyed).toBe(true);
    expect(metadata.data.oldest_version).toBe(2);

    // DELETE metadata: the whole secret, every version.
    await vault.delete(`${project}/metadata/production/LIFE`);
    expect((await refusal(vault.read(`${project}/metadata/production/LIFE`))).status).toBe(404);
    expect((await refusal(vault.read(path))).status).toBe(404);
  });

  it("answers with Vault's errors: 403 for a bad token or a missing permission, 400 for a bad path", async () => {
    const bad = await refusal(client("qala_pat_nope").read(`${project}/data/production/DB`));
    expect(bad).toEqual({ status: 403, errors: ["permission denied"] });
    const none = await refusal(
      nodeVault({ endpoint: `${url}/vault`, noCustomHTTPVerbs: true }).read(
        `${project}/data/production/DB`,
      ),
    );
    expect(none.status).toBe(403);

    // A viewer of staging: no values, no writes, production invisible.
    const reader = client(readerToken);
    expect((await refusal(reader.read(`${project}/data/staging/API_KEY`))).status).toBe(403);
    expect(
      (await refusal(reader.write(`${project}/data/staging/API_KEY`, { data: { value: "x" } })))
        .status,
    ).toBe(403);
    expect((await refusal(reader.read(`${project}/data/production/DB`))).status).toBe(404);
    expect((await reader.list(`${project}/metadata/staging/`)).data.keys).toContain("API_KEY");

    const deep = await refusal(client(token).read(`${project}/data/production/a/b`));
    expect(deep.status).toBe(404);
    const badKey = await refusal(client(token).read(`${project}/data/production/bad key`));
    expect(badKey.status).toBe(400);
    const noData = await refusal(
      client(token).write(`${project}/data/production/X`, { value: "not wrapped in data" }),
    );
    expect(noData).toMatchObject({ status: 400 });
  });

  it("answers the health probe without a token and describes the token it is given", async () => {
    const health = await nodeVault({ endpoint: `${url}/vault`, noCustomHTTPVerbs: true }).health();
    expect(health).toMatchObject({ initialized: true, sealed: false });
    const self = await client(token).tokenLookupSelf();
    expect(self.data).toMatchObject({
      display_name: "token-vault",
      meta: { qala_principal: "token" },
    });
  });

  it("audits Vault calls in the project's chain", async () => {
    const admin = createClient({ url, token: inject("adminToken") });
    const events = await admin.audit.list(project, { limit: 200 });
    const actions = new Set(events.items.map((e) => e.action));
    for (const action of ["secret.write", "secret.read", "secret.delete", "secret.restore"]) {
      expect(actions).toContain(action);
    }
    expect(actions).toContain("secret.destroy");
    expect(actions).toContain("project.read"); // the CLI's mount probe
    // A call that changes nothing (deleting a version twice) is audited all the same.
    const vault = client(token);
    await vault.write(`${project}/data/production/TWICE`, { data: { value: "x" } });
    await vault.write(`${project}/delete/production/TWICE`, { versions: [1] });
    const before = await admin.audit.list(project, { action: "secret.delete", limit: 200 });
    await vault.write(`${project}/delete/production/TWICE`, { versions: [1] });
    const after = await admin.audit.list(project, { action: "secret.delete", limit: 200 });
    expect(after.items.length).toBe(before.items.length + 1);
    expect((await admin.audit.verify(project)).ok).toBe(true);
  });
});

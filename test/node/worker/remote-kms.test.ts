// The remote key provider end to end: two Qalá workers over real HTTP, one
// the KMS of the other. Worker A serves Transit under /vault; worker B has no
// master key at all (QALA_KEY_PROVIDER=remote) and wraps every key it keeps
// (KEKs, the password pepper, its signing and payload keys) through A.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostWorker } from "../../../scripts/worker-host.mjs";
import { bootstrap, caller, type Call } from "../../support/http-call.js";

const OUT_DIR = ".build/test-host"; // built by the Node global setup
const PASSWORD = "remote key provider test";
type Host = Awaited<ReturnType<typeof hostWorker>>;

const dir = mkdtempSync(join(tmpdir(), "qala-remote-kms-"));
const moved = mkdtempSync(join(tmpdir(), "qala-moved-to-kms-"));
let kms: Host;
let kmsCall: Call;
let kmsAdmin: string;
let kmsToken: string;
const hosts: Host[] = [];
let bAdmin: string; // worker B's instance admin, from the first test
let bTransitToken: string; // a token of B's own Transit, from the first test
let bSealed: string; // a ciphertext of B's Transit key "inner"

/** Worker B, persisted in `dir`, whose key provider is worker A's Transit key `instance-b`. */
async function hostB(token = kmsToken, { persistDir = dir, masterKey = "" } = {}): Promise<Host> {
  const host = await hostWorker({
    outDir: OUT_DIR,
    persistDir,
    bindings: {
      QALA_MASTER_KEY: masterKey,
      QALA_KEY_PROVIDER: "remote",
      QALA_KMS_URL: `${kms.origin}/vault`,
      QALA_KMS_TOKEN: token,
      QALA_KMS_KEY: "instance-b",
    },
  });
  hosts.push(host);
  return host;
}

beforeAll(async () => {
  kms = await hostWorker({ outDir: OUT_DIR });
  hosts.push(kms);
  kmsCall = caller(kms.origin);
  kmsAdmin = await bootstrap(kmsCall, "kms@example.com", PASSWORD);
  expect(
    (await kmsCall("POST", "/v1/projects", { token: kmsAdmin, body: { slug: "kms" } })).status,
  ).toBe(201);
  const token = await kmsCall("POST", "/v1/projects/kms/tokens", {
    token: kmsAdmin,
    body: { name: "instance-b", permissions: ["transit:encrypt", "transit:decrypt"] },
  });
  expect(token.status).toBe(201);
  kmsToken = token.body.token;
  // Worker B may use the key but not manage it: the operator creates it on A.
  const created = await kmsCall("POST", "/vault/v1/transit/keys/instance-b", {
    vaultToken: kmsAdmin,
    body: {},
  });
  // The instance admin's own token is a user token: Transit keys belong to a project.
  expect(created.status).toBe(400);
  const manager = await kmsCall("POST", "/v1/projects/kms/tokens", {
    token: kmsAdmin,
    body: { name: "operator", permissions: ["transit:manage"] },
  });
  const made = await kmsCall("POST", "/vault/v1/transit/keys/instance-b", {
    vaultToken: manager.body.token,
    body: {},
  });
  expect(made.status).toBe(204);
}, 60_000);

afterAll(async () => {
  for (const host of hosts.reverse()) await host.dispose();
  rmSync(dir, { recursive: true, force: true });
  rmSync(moved, { recursive: true, force: true });
});

describe("remote key provider (one Qalá the KMS of another)", () => {
  it("wraps B's keys through A's Transit, audited on A, and survives a key rotation on A", async () => {
    const b = await hostB();
    const call = caller(b.origin);
    const admin = await bootstrap(call, "b@example.com", PASSWORD);
    bAdmin = admin;
    expect(
      (await call("POST", "/v1/projects", { token: admin, body: { slug: "app" } })).status,
    ).toBe(201);
    const set = { DB_URL: "postgres://b", API_KEY: "sk-remote" };
    const written = await call("PATCH", "/v1/projects/app/environments/production/secrets", {
      token: admin,
      body: { set },
    });
    expect(written.status).toBe(200);
    const read = await call("GET", "/v1/projects/app/environments/production/secrets/DB_URL", {
      token: admin,
    });
    expect(read.body.value).toBe("postgres://b");
    // B serves Transit too; its own Transit keys are wrapped through A.
    const transit = await call("POST", "/v1/projects/app/tokens", {
      token: admin,
      body: {
        name: "transit",
        permissions: ["transit:manage", "transit:encrypt", "transit:decrypt"],
      },
    });
    bTransitToken = transit.body.token;
    const inner = await call("POST", "/vault/v1/transit/keys/inner", {
      vaultToken: bTransitToken,
      body: {},
    });
    expect(inner.status).toBe(204);
    const sealedOnB = await call("POST", "/vault/v1/transit/encrypt/inner", {
      vaultToken: bTransitToken,
      body: { plaintext: btoa("inner") },
    });
    expect(sealedOnB.body.data.ciphertext).toMatch(/^vault:v1:/);
    bSealed = sealedOnB.body.data.ciphertext;
    const login = await call("POST", "/v1/auth/login", {
      body: { email: "b@example.com", password: PASSWORD },
    });
    expect(login.status).toBe(200);
    expect((await call("GET", "/v1/me", { token: login.body.access_token })).status).toBe(200);
    expect((await call("GET", "/.well-known/jwks.json")).status).toBe(200);

    // At rest in B: every key is wrapped by A's Transit key, as Transit ciphertext.
    const { results: keys } = await b.db
      .prepare("SELECT scope, wrapped_by, wrapped_key FROM keys")
      .all<{ scope: string; wrapped_by: string; wrapped_key: string }>();
    expect(keys.length).toBeGreaterThanOrEqual(4); // a KEK, the pepper, signing and payload keys
    for (const key of keys) {
      expect(key.wrapped_by).toBe("transit:instance-b");
      expect(key.wrapped_key).toMatch(/^vault:v1:/);
    }

    // A audited the wraps and unwraps in its project's chain.
    const audit = await kmsCall("GET", "/v1/projects/kms/audit?limit=100", { token: kmsAdmin });
    const actions = new Set(audit.body.items.map((e: any) => e.action));
    expect(actions).toContain("transit.encrypt");
    expect(actions).toContain("transit.decrypt");
    expect(
      (await kmsCall("GET", "/v1/projects/kms/audit/verify", { token: kmsAdmin })).body.ok,
    ).toBe(true);

    // A rotates the key: B, restarted (no cached unwrapped keys), still reads
    // what v1 wrapped, and new keys are wrapped by v2.
    await b.dispose();
    hosts.splice(hosts.indexOf(b), 1);
    const operator = await kmsCall("POST", "/v1/projects/kms/tokens", {
      token: kmsAdmin,
      body: { name: "rotator", permissions: ["transit:manage"] },
    });
    const rotated = await kmsCall("POST", "/vault/v1/transit/keys/instance-b/rotate", {
      vaultToken: operator.body.token,
    });
    expect(rotated.body.data.latest_version).toBe(2);
    const b2 = await hostB();
    const call2 = caller(b2.origin);
    const again = await call2("GET", "/v1/projects/app/environments/production/secrets/API_KEY", {
      token: admin,
    });
    expect(again.body.value).toBe("sk-remote");
    expect(
      (
        await call2("POST", "/v1/projects/app/environments", {
          token: admin,
          body: { slug: "qa" },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call2("PUT", "/v1/projects/app/environments/qa/secrets/X", {
          token: admin,
          body: { value: "y" },
        })
      ).status,
    ).toBe(201);
    const { results: after } = await b2.db
      .prepare("SELECT wrapped_key FROM keys WHERE wrapped_key LIKE 'vault:v2:%'")
      .all();
    expect(after.length).toBeGreaterThanOrEqual(1);
    // The re-wrap job moves everything B keeps to the key's newest version
    // (after which the KMS may stop decrypting v1: Vault's min_decryption_version).
    expect((await call2("POST", "/v1/admin/master-key/rewrap", { token: admin })).status).toBe(202);
    let job = await call2("GET", "/v1/admin/master-key", { token: admin });
    for (let i = 0; i < 100 && job.body.job?.state !== "done"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await call2("GET", "/v1/admin/master-key", { token: admin });
    }
    expect(job.body).toMatchObject({
      active: "transit:instance-b",
      in_use: ["transit:instance-b"],
      job: { state: "done" },
    });
    const { results: wrappings } = await b2.db
      .prepare("SELECT wrapped_key FROM keys WHERE state != 'destroyed'")
      .all<{ wrapped_key: string }>();
    expect(wrappings.length).toBeGreaterThanOrEqual(5);
    expect(wrappings.filter((k) => !k.wrapped_key.startsWith("vault:v2:"))).toEqual([]);
    // A fresh host (no cached keys) reads through the v2 wrappings.
    await b2.dispose();
    hosts.splice(hosts.indexOf(b2), 1);
    const b3 = await hostB();
    const still = await caller(b3.origin)(
      "GET",
      "/v1/projects/app/environments/production/secrets/API_KEY",
      { token: admin },
    );
    expect(still.body.value).toBe("sk-remote");
    await b3.dispose();
    hosts.splice(hosts.indexOf(b3), 1);
  }, 60_000);

  it("fails closed with 503 and stores nothing when the KMS refuses", async () => {
    // B on the same store with a token A does not know: nothing unwraps.
    const b = await hostB("qala_pat_not_a_real_token");
    const call = caller(b.origin);
    const login = await call("POST", "/v1/auth/login", {
      body: { email: "b@example.com", password: PASSWORD },
    });
    expect(login.status).toBe(503);
    expect(login.body.error.code).toBe("unavailable");
    expect(JSON.stringify(login.body)).not.toContain("sk-remote");
    const read = await call("GET", "/v1/projects/app/environments/production/secrets/API_KEY", {
      token: bAdmin,
    });
    expect(read.status).toBe(503);
    expect(JSON.stringify(read.body)).not.toContain("sk-remote");
    const write = await call("PUT", "/v1/projects/app/environments/production/secrets/NEVER", {
      token: bAdmin,
      body: { value: "lost?" },
    });
    expect(write.status).toBe(503);
    const { results } = await b.db.prepare("SELECT id FROM secrets WHERE key = 'NEVER'").all();
    expect(results).toEqual([]);
    // B's own Transit: its key cannot be unwrapped, so 503 in Vault's shape (not a bad ciphertext).
    const encrypted = await call("POST", "/vault/v1/transit/encrypt/inner", {
      vaultToken: bTransitToken,
      body: { plaintext: btoa("x") },
    });
    expect(encrypted).toEqual({
      status: 503,
      body: { errors: ["the key provider is unavailable"] },
    });
    const decrypted = await call("POST", "/vault/v1/transit/decrypt/inner", {
      vaultToken: bTransitToken,
      body: { ciphertext: bSealed },
    });
    expect(decrypted.status).toBe(503);
  }, 60_000);

  it("moves an instance from a local master key onto the KMS with the re-wrap job", async () => {
    const LOCAL = `local:${randomBytes(32).toString("base64")}`;
    const dispose = async (host: Host) => {
      await host.dispose();
      hosts.splice(hosts.indexOf(host), 1);
    };
    // 1. An instance on a local master key.
    const local = await hostWorker({
      outDir: OUT_DIR,
      persistDir: moved,
      bindings: { QALA_MASTER_KEY: LOCAL },
    });
    hosts.push(local);
    let call = caller(local.origin);
    const admin = await bootstrap(call, "moved@example.com", PASSWORD);
    expect(
      (await call("POST", "/v1/projects", { token: admin, body: { slug: "app" } })).status,
    ).toBe(201);
    const put = await call("PUT", "/v1/projects/app/environments/production/secrets/DB_URL", {
      token: admin,
      body: { value: "postgres://moved" },
    });
    expect(put.status).toBe(201);
    await dispose(local);

    // Control: the KMS alone cannot unwrap what the local key wrapped.
    const alone = await hostB(kmsToken, { persistDir: moved });
    const refused = await caller(alone.origin)(
      "GET",
      "/v1/projects/app/environments/production/secrets/DB_URL",
      { token: admin },
    );
    expect(refused.status).toBe(503);
    await dispose(alone);

    // 2. The KMS active, the local key kept to unwrap: the job re-wraps everything.
    const both = await hostB(kmsToken, { persistDir: moved, masterKey: LOCAL });
    call = caller(both.origin);
    const before = await call("GET", "/v1/admin/master-key", { token: admin });
    expect(before.body).toMatchObject({ active: "transit:instance-b", in_use: ["local"] });
    expect((await call("POST", "/v1/admin/master-key/rewrap", { token: admin })).status).toBe(202);
    let status = before;
    for (let i = 0; i < 100 && status.body.job?.state !== "done"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await call("GET", "/v1/admin/master-key", { token: admin });
    }
    expect(status.body).toMatchObject({ in_use: ["transit:instance-b"], job: { state: "done" } });
    await dispose(both);

    // 3. The KMS alone now reads, logs in and writes.
    const after = await hostB(kmsToken, { persistDir: moved });
    call = caller(after.origin);
    const read = await call("GET", "/v1/projects/app/environments/production/secrets/DB_URL", {
      token: admin,
    });
    expect(read.body.value).toBe("postgres://moved");
    const login = await call("POST", "/v1/auth/login", {
      body: { email: "moved@example.com", password: PASSWORD },
    });
    expect(login.status).toBe(200);
    await dispose(after);
  }, 90_000);
});

// Master-key rotation end to end, on one persisted D1 and Durable Object store
// hosted three times: under the old key; under "new,old" to run the re-wrap
// job; and under the new key alone, where everything must still decrypt.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostWorker } from "../../../scripts/worker-host.mjs";
import { bootstrap, caller, type Call } from "../../support/http-call.js";

const OUT_DIR = ".build/test-host"; // built by the Node global setup
const OLD = `old:${randomBytes(32).toString("base64")}`;
const NEW = `new:${randomBytes(32).toString("base64")}`;
const PASSWORD = "master key rotation test";
const dir = mkdtempSync(join(tmpdir(), "qala-master-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function hosted<T>(masterKey: string, run: (call: Call) => Promise<T>): Promise<T> {
  const host = await hostWorker({
    outDir: OUT_DIR,
    persistDir: dir,
    bindings: { QALA_MASTER_KEY: masterKey },
  });
  try {
    return await run(caller(host.origin));
  } finally {
    await host.dispose();
  }
}

let transitToken = "";
let sealed = "";
const vault = async (call: Call, path: string, body: unknown) => {
  const res = await call("POST", `/vault/v1/transit/${path}`, { body, vaultToken: transitToken });
  return res;
};

const SECRETS = {
  production: { DB_URL: "postgres://prod" },
  development: { DB_URL: "postgres://dev" },
};

describe("master-key rotation", () => {
  it("re-wraps every KEK and server key, after which the old master key can go", async () => {
    // 1. Under the old key: a project with secrets in two environments, a login, the JWKS.
    const admin = await hosted(OLD, async (call) => {
      const token = await bootstrap(call, "mk@example.com", PASSWORD);
      expect((await call("POST", "/v1/projects", { token, body: { slug: "mk" } })).status).toBe(
        201,
      );
      for (const [env, set] of Object.entries(SECRETS)) {
        const res = await call("PATCH", `/v1/projects/mk/environments/${env}/secrets`, {
          token,
          body: { set },
        });
        expect(res.status).toBe(200);
      }
      const login = await call("POST", "/v1/auth/login", {
        body: { email: "mk@example.com", password: PASSWORD },
      });
      expect(login.status).toBe(200);
      expect((await call("GET", "/.well-known/jwks.json")).status).toBe(200);
      // Transit keys are wrapped by the master key too.
      const transit = await call("POST", "/v1/projects/mk/tokens", {
        token,
        body: {
          name: "transit",
          permissions: ["transit:manage", "transit:encrypt", "transit:decrypt"],
        },
      });
      transitToken = transit.body.token;
      await vault(call, "keys/app", {});
      sealed = (await vault(call, "encrypt/app", { plaintext: btoa("transit value") })).body.data
        .ciphertext;
      return token;
    });

    const read = (call: Call, env: string) =>
      call("GET", `/v1/projects/mk/environments/${env}/secrets/DB_URL`, { token: admin });

    // Control: the new key alone cannot read what the old one wraps (so the test can fail).
    await hosted(NEW, async (call) => {
      expect((await read(call, "production")).status).toBe(500);
    });

    // 2. Under "new,old": the job re-wraps everything under the new key.
    await hosted(`${NEW},${OLD}`, async (call) => {
      const before = await call("GET", "/v1/admin/master-key", { token: admin });
      expect(before.body).toMatchObject({ active: "new", in_use: ["old"], job: null });
      const started = await call("POST", "/v1/admin/master-key/rewrap", { token: admin });
      expect(started.status).toBe(202);
      let status = before;
      for (let i = 0; i < 100 && status.body.job?.state !== "done"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = await call("GET", "/v1/admin/master-key", { token: admin });
      }
      expect(status.body).toMatchObject({
        active: "new",
        in_use: ["new"],
        job: { id: started.body.job, state: "done", projects: 1 },
      });
      // Two environment KEKs at least, and the pepper, signing and payload keys.
      expect(status.body.job.rewrapped).toBeGreaterThanOrEqual(5);
      expect((await read(call, "production")).body.value).toBe("postgres://prod");
      const audit = await call("GET", "/v1/audit?action=master_key.rewrap", { token: admin });
      expect(audit.body.items.map((e: any) => e.actor.kind)).toContain("system");
    });

    // 3. Under the new key alone: values, password logins, tokens and the JWKS all work.
    await hosted(NEW, async (call) => {
      for (const [env, set] of Object.entries(SECRETS)) {
        expect((await read(call, env)).body.value).toBe(set.DB_URL);
      }
      const login = await call("POST", "/v1/auth/login", {
        body: { email: "mk@example.com", password: PASSWORD },
      });
      expect(login.status).toBe(200);
      const me = await call("GET", "/v1/me", { token: login.body.access_token });
      expect(me.status).toBe(200);
      expect((await call("GET", "/.well-known/jwks.json")).status).toBe(200);
      const written = await call("PUT", "/v1/projects/mk/environments/production/secrets/NEW", {
        token: admin,
        body: { value: "after" },
      });
      expect(written.status).toBe(201);
      const status = await call("GET", "/v1/admin/master-key", { token: admin });
      expect(status.body).toMatchObject({ active: "new", in_use: ["new"] });
      const opened = await vault(call, "decrypt/app", { ciphertext: sealed });
      expect(opened.status).toBe(200);
      expect(atob(opened.body.data.plaintext)).toBe("transit value");
    });
  });
});

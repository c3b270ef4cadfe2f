// Transit under /vault/v1/transit, with Vault's shapes and X-Vault-Token auth.
import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN, api, json, newProject, projectToken } from "../helpers.js";

const b64 = (text: string) => btoa(text);

async function vault(method: string, path: string, token: string | null, body?: unknown) {
  const res = await SELF.fetch(`${ORIGIN}/vault/v1/transit/${path}`, {
    method,
    headers: {
      ...(token ? { "X-Vault-Token": token } : {}),
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function setup() {
  const project = await newProject("kms");
  const manager = await projectToken(project, {
    permissions: ["transit:manage", "transit:encrypt", "transit:decrypt"],
  });
  expect((await vault("POST", "keys/app", manager.token, {})).status).toBe(204);
  return { project, token: manager.token };
}

describe("Transit", () => {
  it("encrypts and decrypts with associated data, across a key rotation", async () => {
    const { token } = await setup();
    const info = await vault("GET", "keys/app", token);
    expect(info.body.data).toMatchObject({ name: "app", type: "aes256-gcm96", latest_version: 1 });

    const aad = b64("qala:kek:env_1:1");
    const sealed = await vault("POST", "encrypt/app", token, {
      plaintext: b64("hello transit"),
      associated_data: aad,
    });
    expect(sealed.status).toBe(200);
    expect(sealed.body.data.ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/=]+$/);
    const opened = await vault("POST", "decrypt/app", token, {
      ciphertext: sealed.body.data.ciphertext,
      associated_data: aad,
    });
    expect(atob(opened.body.data.plaintext)).toBe("hello transit");

    // Wrong associated data, or one flipped byte: Vault's 400 with errors.
    const wrong = await vault("POST", "decrypt/app", token, {
      ciphertext: sealed.body.data.ciphertext,
      associated_data: b64("qala:kek:env_2:1"),
    });
    expect(wrong).toMatchObject({
      status: 400,
      body: { errors: [expect.stringContaining("authentication failed")] },
    });
    const bytes = Uint8Array.from(atob(sealed.body.data.ciphertext.slice(9)), (ch) =>
      ch.charCodeAt(0),
    );
    bytes[20]! ^= 1;
    const flipped = `vault:v1:${btoa(String.fromCharCode(...bytes))}`;
    expect(
      (await vault("POST", "decrypt/app", token, { ciphertext: flipped, associated_data: aad }))
        .status,
    ).toBe(400);

    const rotated = await vault("POST", "keys/app/rotate", token);
    expect(rotated.body.data).toMatchObject({
      latest_version: 2,
      keys: { "1": expect.any(Number), "2": expect.any(Number) },
    });
    const v2 = await vault("POST", "encrypt/app", token, { plaintext: b64("after") });
    expect(v2.body.data).toMatchObject({
      key_version: 2,
      ciphertext: expect.stringMatching(/^vault:v2:/),
    });
    const old = await vault("POST", "decrypt/app", token, {
      ciphertext: sealed.body.data.ciphertext,
      associated_data: aad,
    });
    expect(atob(old.body.data.plaintext)).toBe("hello transit");
  });

  it("answers Vault's permission denied to missing, wrong and insufficient tokens, and audits", async () => {
    const { project, token } = await setup();
    const encryptOnly = await projectToken(project, { permissions: ["transit:encrypt"] });
    const sealed = await vault("POST", "encrypt/app", encryptOnly.token, { plaintext: b64("x") });
    expect(sealed.status).toBe(200);
    expect(await vault("POST", "decrypt/app", encryptOnly.token, sealed.body.data)).toMatchObject({
      status: 403,
      body: { errors: [expect.any(String)] },
    });
    expect((await vault("POST", "encrypt/app", null, { plaintext: "eA==" })).status).toBe(403);
    const forged = `${encryptOnly.token.slice(0, -4)}aaaa`;
    expect((await vault("POST", "encrypt/app", forged, { plaintext: "eA==" })).status).toBe(403);
    // A viewer of the project has no transit permission at all.
    const viewer = await projectToken(project, { role: "viewer" });
    expect((await vault("POST", "encrypt/app", viewer.token, { plaintext: "eA==" })).status).toBe(
      403,
    );
    expect((await vault("POST", "encrypt/nope", token, { plaintext: "eA==" })).status).toBe(400);

    const events = await json(await api("GET", `/v1/projects/${project}/audit?limit=100`));
    const transit = events.items.filter(
      (e: any) => e.target === "transit/app" || e.action === "auth.denied",
    );
    expect(transit.map((e: any) => `${e.action} ${e.result}`)).toEqual(
      expect.arrayContaining(["transit.encrypt ok", "transit.key.create ok", "auth.denied denied"]),
    );
    expect(JSON.stringify(events)).not.toContain(b64("x"));
  });

  it("keeps Transit key material wrapped by the master key", async () => {
    const { project } = await setup();
    const { id } = await json(await api("GET", `/v1/projects/${project}`));
    const row = await env.DB.prepare("SELECT * FROM keys WHERE scope = 'transit' AND scope_id = ?")
      .bind(`${id}:app`)
      .first<{ wrapped_by: string; wrapped_key: string }>();
    expect(row).toMatchObject({ wrapped_by: "test2" });
    expect(row!.wrapped_key.length).toBeGreaterThan(60);
  });
});

import { SELF } from "cloudflare:test";
import {
  CompactEncrypt,
  base64url,
  compactDecrypt,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from "jose";
import { describe, expect, it } from "vitest";
import { admin, api, expectError, json, newProject, ORIGIN, secretsPath } from "../helpers.js";

async function serverKey() {
  const { keys } = await json(await SELF.fetch(`${ORIGIN}/.well-known/jwks.json`));
  expect(keys).toHaveLength(1);
  expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", use: "enc", alg: "ECDH-ES+A256KW" });
  expect(keys[0]).not.toHaveProperty("d");
  return { key: await importJWK(keys[0] as JWK, "ECDH-ES+A256KW"), kid: keys[0].kid as string };
}

async function seal(body: unknown) {
  const { key, kid } = await serverKey();
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(body)))
    .setProtectedHeader({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid })
    .encrypt(key);
}

async function responseKey() {
  const { publicKey, privateKey } = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256" });
  const header = base64url.encode(JSON.stringify(await exportJWK(publicKey)));
  return { header, privateKey };
}

const putSealed = async (project: string, key: string, body: unknown) =>
  SELF.fetch(`${ORIGIN}${secretsPath(project)}/${key}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${await admin()}`, "Content-Type": "application/jose" },
    body: await seal(body),
  });

describe("payload encryption", () => {
  it("accepts a secret-bearing body as a JWE to the server's published key", async () => {
    const project = await newProject("jwe");
    const res = await putSealed(project, "SEALED", { value: "sealed in transit" });
    expect(res.status).toBe(201);
    expect((await json(await api("GET", `${secretsPath(project)}/SEALED`))).value).toBe(
      "sealed in transit",
    );
    const garbage = await SELF.fetch(`${ORIGIN}${secretsPath(project)}/X`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${await admin()}`, "Content-Type": "application/jose" },
      body: "not.a.jwe.at.all",
    });
    await expectError(garbage, 400, "bad_request");
  });

  it("answers as a JWE to the caller's ephemeral key when asked with Qala-Response-Key", async () => {
    const project = await newProject("jwe");
    await api("PUT", `${secretsPath(project)}/K`, { body: { value: "for your eyes only" } });
    const { header, privateKey } = await responseKey();
    const res = await api("GET", `${secretsPath(project)}/K`, {
      headers: { "Qala-Response-Key": header },
    });
    expect(res.headers.get("Content-Type")).toBe("application/jose");
    const text = new TextDecoder().decode(await res.arrayBuffer());
    expect(text).not.toContain("for your eyes only");
    const { plaintext } = await compactDecrypt(text, privateKey);
    expect(JSON.parse(new TextDecoder().decode(plaintext)).value).toBe("for your eyes only");
  });

  it("refuses plaintext values with 415 encryption_required when the project requires encryption", async () => {
    const project = await newProject("jwe");
    await api("PATCH", `/v1/projects/${project}`, {
      body: { settings: { require_encrypted_payloads: true } },
    });
    await expectError(
      await api("PUT", `${secretsPath(project)}/K`, { body: { value: "plain" } }),
      415,
      "encryption_required",
    );
    await expectError(
      await api("PATCH", secretsPath(project), { body: { set: { K: "plain" } } }),
      415,
      "encryption_required",
    );
    expect((await putSealed(project, "K", { value: "sealed" })).status).toBe(201);
    // Generated values carry no value in the request: allowed.
    expect((await api("PUT", `${secretsPath(project)}/G`, { body: { generate: {} } })).status).toBe(
      201,
    );
    await expectError(await api("GET", `${secretsPath(project)}/K`), 415, "encryption_required");
    await expectError(
      await api("GET", `/v1/projects/${project}/environments/development/export`),
      415,
      "encryption_required",
    );
    const { header, privateKey } = await responseKey();
    const sealed = await api("GET", `${secretsPath(project)}/K`, {
      headers: { "Qala-Response-Key": header },
    });
    const { plaintext } = await compactDecrypt(
      new TextDecoder().decode(await sealed.arrayBuffer()),
      privateKey,
    );
    expect(JSON.parse(new TextDecoder().decode(plaintext)).value).toBe("sealed");
    // Keys without values may still be listed in the clear.
    expect((await api("GET", secretsPath(project))).status).toBe(200);
  });

  it("does not let a client claim its plaintext body was encrypted", async () => {
    const project = await newProject("jwe");
    await api("PATCH", `/v1/projects/${project}`, {
      body: { settings: { require_encrypted_payloads: true } },
    });
    await expectError(
      await api("PUT", `${secretsPath(project)}/K`, {
        body: { value: "plain" },
        headers: { "Qala-Encrypted-Request": "1" },
      }),
      415,
      "encryption_required",
    );
  });
});

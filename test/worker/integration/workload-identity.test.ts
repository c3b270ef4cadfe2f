import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  api,
  expectError,
  json,
  newProject,
  ORIGIN,
  projectToken,
  secretsPath,
} from "../helpers.js";

const ISSUER = () => env.TEST_ISSUER_URL;
const AUDIENCE = "https://qala.test";
const FINGERPRINT = "a".repeat(64);

async function mint(
  claims: Record<string, unknown>,
  options: { other?: boolean; ttl?: number } = {},
) {
  const res = await fetch(`${ISSUER()}/mint`, {
    method: "POST",
    body: JSON.stringify({ claims: { iss: ISSUER(), aud: AUDIENCE, ...claims }, ...options }),
  });
  return ((await res.json()) as { token: string }).token;
}

const github = (repo: string, extra: Record<string, unknown> = {}) => ({
  sub: `repo:${repo}:ref:refs/heads/main`,
  repository: repo,
  ref: "refs/heads/main",
  ...extra,
});

async function trust(project: string, body: Record<string, unknown>) {
  return api("POST", `/v1/projects/${project}/oidc-trusts`, {
    body: { issuer: ISSUER(), audience: AUDIENCE, role: "developer", ...body },
  });
}

const exchange = (body: Record<string, unknown>, cf?: Record<string, unknown>) =>
  SELF.fetch(`${ORIGIN}/v1/auth/oidc`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    ...(cf ? { cf } : {}),
  });

async function seeded() {
  const project = await newProject("oidc");
  await api("PUT", `${secretsPath(project)}/KEY`, { body: { value: "dev-value" } });
  await api("PUT", `${secretsPath(project, "staging")}/KEY`, { body: { value: "staging-value" } });
  return project;
}

describe("OIDC trust policies", () => {
  it("refuses an audience wildcard and an organisation-wide subject unless marked", async () => {
    const project = await seeded();
    await expectError(
      await trust(project, { audience: "*", claims: { sub: "repo:acme/app:*" } }),
      422,
      "validation_failed",
    );
    await expectError(
      await trust(project, { claims: { sub: "repo:acme/*" } }),
      422,
      "validation_failed",
    );
    const marked = await trust(project, {
      claims: { sub: "repo:acme/*" },
      allow_wildcard_subject: true,
    });
    expect(marked.status).toBe(201);
    await expectError(
      await trust(project, {
        issuer: "http://idp.example.com",
        claims: { sub: "repo:acme/app:*" },
      }),
      422,
      "validation_failed",
    );
  });
});

describe("OIDC workload identity", () => {
  it("exchanges a matching ID token for a short-lived token limited to the policy", async () => {
    const project = await seeded();
    const created = await trust(project, {
      claims: { sub: "repo:acme/app:ref:refs/heads/*", repository: "acme/app" },
      environments: ["development"],
      ttl_seconds: 600,
    });
    expect(created.status).toBe(201);
    const res = await exchange({ project, token: await mint(github("acme/app")) });
    expect(res.status).toBe(200);
    const { access_token, expires_in } = await json(res);
    expect(expires_in).toBe(600);
    const read = await api("GET", `${secretsPath(project)}/KEY`, { token: access_token });
    expect(await json(read)).toMatchObject({ value: "dev-value" });
    await expectError(
      await api("GET", `${secretsPath(project, "staging")}/KEY`, { token: access_token }),
      404,
      "not_found",
    );
    const me = await json(await api("GET", "/v1/me", { token: access_token }));
    expect(me.principal).toMatchObject({ kind: "oidc", name: "repo:acme/app:ref:refs/heads/main" });
    // The exchange, and a refused one, are events of the project's chain.
    await exchange({ project, token: await mint(github("acme/other")) });
    const { id: trustId } = await json(created.clone());
    const events = await json(await api("GET", `/v1/projects/${project}/audit?limit=100`));
    const actions = events.items.map((e: any) => `${e.action}:${e.result}`);
    expect(actions).toContain("auth.denied:denied");
    expect(events.items.find((e: any) => e.action === "auth.login")).toMatchObject({
      actor: { kind: "oidc", id: trustId },
      target: "repo:acme/app:ref:refs/heads/main",
    });
  });

  it("refuses tokens that do not match, are signed by another key, expired, or meant for another audience", async () => {
    const project = await seeded();
    await trust(project, { claims: { sub: "repo:acme/app:ref:refs/heads/*" } });
    const cases = [
      await mint(github("acme/other")),
      await mint(github("acme/app"), { other: true }),
      await mint(github("acme/app"), { ttl: -120 }),
      await mint({ ...github("acme/app"), aud: "https://elsewhere.example" }),
      await mint({ ...github("acme/app"), iss: "https://token.actions.githubusercontent.com" }),
      "not-a-jwt",
    ];
    for (const token of cases) {
      await expectError(await exchange({ project, token }), 401, "unauthorized");
    }
  });

  it("does not let a token matching another project's policy into this project", async () => {
    const mine = await seeded();
    const theirs = await seeded();
    await trust(theirs, { claims: { sub: "repo:acme/app:ref:refs/heads/*" } });
    await trust(mine, { claims: { sub: "repo:acme/infra:ref:refs/heads/*" } });
    const token = await mint(github("acme/app"));
    await expectError(await exchange({ project: mine, token }), 401, "unauthorized");
    const theirsAccess = await json(await exchange({ project: theirs, token }));
    await expectError(
      await api("GET", `${secretsPath(mine)}/KEY`, { token: theirsAccess.access_token }),
      404,
      "not_found",
    );
  });

  it("answers 409 when several policies match, until the request names one", async () => {
    const project = await seeded();
    const a = await json(await trust(project, { claims: { sub: "repo:acme/app:**" } }));
    await trust(project, { claims: { repository: "acme/app" } });
    const token = await mint(github("acme/app"));
    await expectError(await exchange({ project, token }), 409, "conflict");
    expect((await exchange({ project, token, trust: a.id })).status).toBe(200);
  });

  it("stops a workload's access token when its policy is deleted", async () => {
    const project = await seeded();
    const policy = await json(await trust(project, { claims: { sub: "repo:acme/app:**" } }));
    const { access_token } = await json(
      await exchange({ project, token: await mint(github("acme/app")) }),
    );
    expect((await api("GET", `${secretsPath(project)}/KEY`, { token: access_token })).status).toBe(
      200,
    );
    expect((await api("DELETE", `/v1/projects/${project}/oidc-trusts/${policy.id}`)).status).toBe(
      204,
    );
    await expectError(
      await api("GET", `${secretsPath(project)}/KEY`, { token: access_token }),
      401,
      "unauthorized",
    );
  });

  it("requires the bound client certificate when a policy names one", async () => {
    const project = await seeded();
    await trust(project, {
      claims: { sub: "repo:acme/app:**" },
      client_certificates: [{ sha256: FINGERPRINT }],
    });
    const token = await mint(github("acme/app"));
    await expectError(await exchange({ project, token }), 401, "unauthorized");
    const verified = {
      tlsClientAuth: {
        certPresented: "1",
        certVerified: "SUCCESS",
        certFingerprintSHA256: FINGERPRINT,
      },
    };
    expect((await exchange({ project, token }, verified)).status).toBe(200);
  });
});

describe("mutual TLS for API tokens", () => {
  const withCert = (tlsClientAuth: Record<string, string>) => ({ tlsClientAuth });

  it("accepts a bound token only with a verified certificate it names", async () => {
    const project = await seeded();
    const token = await projectToken(project, {
      role: "viewer",
      client_certificates: [{ sha256: FINGERPRINT }, { issuer: "CN=Qala Test CA", serial: "0A1B" }],
    });
    const call = (cf?: Record<string, unknown>) =>
      SELF.fetch(`${ORIGIN}${secretsPath(project)}`, {
        headers: { Authorization: `Bearer ${token.token}` },
        ...(cf ? { cf } : {}),
      });
    await expectError(await call(), 401, "unauthorized");
    await expectError(await call(withCert({ certPresented: "0" })), 401, "unauthorized");
    await expectError(
      await call(
        withCert({
          certPresented: "1",
          certVerified: "FAILED:self signed certificate",
          certFingerprintSHA256: FINGERPRINT,
        }),
      ),
      401,
      "unauthorized",
    );
    await expectError(
      await call(
        withCert({
          certPresented: "1",
          certVerified: "SUCCESS",
          certFingerprintSHA256: "b".repeat(64),
        }),
      ),
      401,
      "unauthorized",
    );
    expect(
      (
        await call(
          withCert({
            certPresented: "1",
            certVerified: "SUCCESS",
            certFingerprintSHA256: FINGERPRINT.toUpperCase(),
          }),
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await call(
          withCert({
            certPresented: "1",
            certVerified: "SUCCESS",
            certIssuerDN: "CN=Qala Test CA",
            certSerial: "0a1b",
          }),
        )
      ).status,
    ).toBe(200);

    // The certificate is read only once the coordinator asks for it, and each request is one
    // event (the refused ones name no actor: the token did not authenticate).
    const events = await json(await api("GET", `/v1/projects/${project}/audit?limit=100`));
    const reads = events.items.filter((e: any) => /^(secret\.list|auth\.denied)$/.test(e.action));
    expect(reads.map((e: any) => `${e.action} ${e.result} ${e.actor.id === token.id}`)).toEqual([
      "secret.list ok true",
      "secret.list ok true",
      ...Array(4).fill("auth.denied denied false"),
    ]);
  });
});

// Rotation policies: a generator or a signed webhook, rotated now by
// POST .../rotate and when due by the cron job (driven with a moved clock).
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  api,
  coordinatorOf,
  expectError,
  json,
  newProject,
  secretsPath,
  cron,
} from "../helpers.js";

const DAY_MS = 86_400_000;

const hook = (name: string) => `${env.TEST_WEBHOOK_URL}/hook/${name}`;
const configure = (name: string, behaviour: Record<string, unknown>) =>
  fetch(`${env.TEST_WEBHOOK_URL}/control/${name}`, {
    method: "POST",
    body: JSON.stringify(behaviour),
  });
const received = async (name: string) =>
  (await (await fetch(`${env.TEST_WEBHOOK_URL}/received/${name}`)).json()) as {
    signature: string | null;
    body: string;
  }[];

const value = async (project: string, key: string) =>
  json(await api("GET", `${secretsPath(project)}/${key}`));

async function hmacHex(secret: string, message: string) {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const events = async (project: string, action: string) =>
  (await json(await api("GET", `/v1/projects/${project}/audit?action=${action}`))).items;

describe("rotation policies", () => {
  it("rotates a generated secret now, keeping its policy, and reports when it is next due", async () => {
    const project = await newProject("rot");
    const put = await api("PUT", `${secretsPath(project)}/DB_PASSWORD`, {
      body: {
        generate: { length: 40, charset: "hex" },
        rotation: { interval_days: 30, generate: { length: 40, charset: "hex" } },
      },
    });
    expect(put.status).toBe(201);
    const first = await json(put);
    expect(first.rotation).toMatchObject({
      interval_days: 30,
      generate: { length: 40, charset: "hex" },
    });
    expect(
      Date.parse(first.rotation.next_rotation_at) - Date.parse(first.rotation.last_rotated_at),
    ).toBe(30 * DAY_MS);
    const before = (await value(project, "DB_PASSWORD")).value;

    const rotated = await api("POST", `${secretsPath(project)}/DB_PASSWORD/rotate`);
    expect(rotated.status).toBe(200);
    expect(await json(rotated)).toMatchObject({ version: 2, rotation: { interval_days: 30 } });
    const after = (await value(project, "DB_PASSWORD")).value;
    expect(after).toMatch(/^[0-9a-f]{40}$/);
    expect(after).not.toBe(before);
    expect((await events(project, "secret.rotate"))[0]).toMatchObject({
      result: "ok",
      target: "development/DB_PASSWORD",
    });

    // A plain write keeps the policy; rotation: null removes it.
    await api("PUT", `${secretsPath(project)}/DB_PASSWORD`, { body: { value: "manual" } });
    expect((await api("POST", `${secretsPath(project)}/DB_PASSWORD/rotate`)).status).toBe(200);
    await api("PUT", `${secretsPath(project)}/DB_PASSWORD`, {
      body: { value: "manual", rotation: null },
    });
    await expectError(
      await api("POST", `${secretsPath(project)}/DB_PASSWORD/rotate`),
      409,
      "conflict",
    );
  });

  it("asks a webhook for the value with a signed request, retrying its failures", async () => {
    const project = await newProject("rot");
    const name = `${project}-ok`;
    await configure(name, { fail: 2, value: "from-webhook" });
    const put = await json(
      await api("PUT", `${secretsPath(project)}/API_KEY`, {
        body: { value: "initial", rotation: { interval_days: 7, webhook: { url: hook(name) } } },
      }),
    );
    expect(put.webhook_secret).toMatch(/^[0-9a-f]{64}$/);

    const rotated = await api("POST", `${secretsPath(project)}/API_KEY/rotate`);
    expect(rotated.status).toBe(200);
    expect((await value(project, "API_KEY")).value).toBe("from-webhook-3");

    const calls = await received(name);
    expect(calls).toHaveLength(3); // two 500s, then the answer
    const last = calls.at(-1)!;
    expect(JSON.parse(last.body)).toMatchObject({
      environment: "development",
      key: "API_KEY",
      current_version: 1,
    });
    expect(last.body).not.toContain("initial");
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(last.signature!)!;
    expect(v1).toBe(await hmacHex(put.webhook_secret, `${t}.${last.body}`));
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(60);
  });

  it("answers 502 when the webhook keeps failing, audits it and keeps the value", async () => {
    const project = await newProject("rot");
    const name = `${project}-down`;
    await configure(name, { status: 503 });
    await api("PUT", `${secretsPath(project)}/API_KEY`, {
      body: { value: "kept", rotation: { interval_days: 7, webhook: { url: hook(name) } } },
    });
    const res = await expectError(
      await api("POST", `${secretsPath(project)}/API_KEY/rotate`),
      502,
      "upstream_failed",
    );
    expect(res.error.message).toContain("503");
    expect(await received(name)).toHaveLength(3);
    expect((await value(project, "API_KEY")).value).toBe("kept");
    const [event] = await events(project, "secret.rotate");
    expect(event).toMatchObject({ result: "error", target: "development/API_KEY" });
    expect(JSON.stringify(event)).not.toContain("kept");
  });

  it("rotates what is due from the cron job, and nothing before", async () => {
    const project = await newProject("rot");
    const name = `${project}-cron`;
    await configure(name, { value: "cron" });
    await api("PUT", `${secretsPath(project)}/GEN`, {
      body: { value: "g0", rotation: { interval_days: 1, generate: { length: 16 } } },
    });
    await api("PUT", `${secretsPath(project)}/HOOK`, {
      body: { value: "h0", rotation: { interval_days: 3, webhook: { url: hook(name) } } },
    });
    await configure(`${name}-down`, { status: 500 });
    await api("PUT", `${secretsPath(project)}/DOWN`, {
      body: { value: "d0", rotation: { interval_days: 3, webhook: { url: hook(`${name}-down`) } } },
    });
    await api("PUT", `${secretsPath(project)}/STILL`, { body: { value: "s0" } });

    await cron(); // nothing is due yet
    expect((await value(project, "GEN")).version).toBe(1);
    expect(await received(name)).toHaveLength(0);

    await (await coordinatorOf(project)).setTestHooks({ clockOffsetMs: 2 * DAY_MS });
    await cron(); // GEN (1 day) is due, HOOK (3 days) is not
    expect((await value(project, "GEN")).version).toBe(2);
    expect((await value(project, "HOOK")).version).toBe(1);

    await (await coordinatorOf(project)).setTestHooks({ clockOffsetMs: 4 * DAY_MS });
    await cron(); // both are due again
    expect((await value(project, "GEN")).version).toBe(3);
    expect(await value(project, "HOOK")).toMatchObject({ version: 2, value: "cron-1" });
    expect((await value(project, "STILL")).version).toBe(1);
    // A webhook that keeps failing leaves the value, is audited, and is tried again next run.
    expect(await value(project, "DOWN")).toMatchObject({ version: 1, value: "d0" });
    expect(await received(`${name}-down`)).toHaveLength(3);
    const rotations = await events(project, "secret.rotate");
    expect(
      rotations.map((e: any) => `${e.target} ${e.actor.kind}:${e.actor.id} ${e.result}`).sort(),
    ).toEqual([
      "development/DOWN system:cron error",
      "development/GEN system:cron ok",
      "development/GEN system:cron ok",
      "development/HOOK system:cron ok",
    ]);
  });
});

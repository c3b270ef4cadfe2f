import { env, runInDurableObject } from "cloudflare:test";
import { ProjectCoordinator } from "../../../src/worker/durable/project-coordinator.js";
import { describe, expect, it } from "vitest";
import {
  api,
  coordinatorOf,
  expectError,
  grant,
  json,
  newProject,
  newUser,
  projectToken,
  secretsPath,
} from "../helpers.js";

async function flushed(project: string) {
  const stub = await coordinatorOf(project);
  const { id } = await json(await api("GET", `/v1/projects/${project}`));
  await stub.flushAudit(id);
  return id as string;
}

const rows = (chain: string) =>
  env.DB.prepare("SELECT seq, hash, target FROM audit_events WHERE chain = ? ORDER BY seq")
    .bind(chain)
    .all<{ seq: number; hash: string; target: string | null }>();

const verify = async (project: string) =>
  json(await api("GET", `/v1/projects/${project}/audit/verify`));

async function active(project: string) {
  await api("PUT", `${secretsPath(project)}/A`, { body: { value: "one" } });
  const token = await projectToken(project, { role: "developer" });
  await api("GET", `${secretsPath(project)}/A`, { token: token.token });
  await api("GET", `${secretsPath(project)}?values=true`, { token: token.token });
  await api("PUT", `${secretsPath(project)}/B`, { body: { value: "two" } });
  await api("GET", `${secretsPath(project, "production")}/A`, { token: token.token });
  return token;
}

describe("audit events", () => {
  it("records every change and read, allowed or denied, newest first, never a value", async () => {
    const project = await newProject("aud");
    const canary = `canary-${crypto.randomUUID()}`;
    await api("PUT", `${secretsPath(project)}/CANARY`, { body: { value: canary } });
    const token = await active(project);
    const res = await json(await api("GET", `/v1/projects/${project}/audit`));
    const actions = res.items.map((e: any) => `${e.action}:${e.result}`);
    expect(actions).toEqual([
      "audit.read:ok", // the listing itself is a recorded access
      "secret.read:denied",
      "secret.write:ok",
      "secret.list:ok",
      "secret.read:ok",
      "token.create:ok",
      "secret.write:ok",
      "secret.write:ok",
      "project.create:ok",
    ]);
    const seqs = res.items.map((e: any) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => b - a));
    const read = res.items.find((e: any) => e.action === "secret.read" && e.result === "ok");
    expect(read).toMatchObject({
      actor: { kind: "token", id: token.id },
      target: "development/A",
      request_id: expect.stringMatching(/^req_/),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(JSON.stringify(res)).not.toContain(canary);
  });

  it("filters by action and actor, and pages with cursors, before and after the flush", async () => {
    const project = await newProject("aud");
    const token = await active(project);
    for (const step of ["before flush", "after flush"]) {
      if (step === "after flush") await flushed(project);
      const reads = await json(
        await api("GET", `/v1/projects/${project}/audit?action=secret.read&actor=${token.id}`),
      );
      expect(reads.items.map((e: any) => e.target)).toEqual(["production/A", "development/A"]);
      const first = await json(await api("GET", `/v1/projects/${project}/audit?limit=3`));
      expect(first.items).toHaveLength(3);
      const rest = await json(
        await api("GET", `/v1/projects/${project}/audit?limit=100&cursor=${first.next_cursor}`),
      );
      expect(rest.items[0].seq).toBe(first.items[2].seq - 1);
      expect(rest.next_cursor).toBeNull();
    }
    const since = await json(
      await api(
        "GET",
        `/v1/projects/${project}/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      ),
    );
    expect(since.items).toEqual([]);
  });

  it("records refusals decided in the Worker: a 403 and a 404 on a project that exists", async () => {
    const project = await newProject("aud");
    const viewer = await newUser("auditviewer");
    await grant(project, viewer.id, "viewer");
    const outsider = await newUser("auditoutsider");
    await expectError(
      await api("PUT", `${secretsPath(project)}/A`, { token: viewer.token, body: { value: "x" } }),
      403,
      "forbidden",
    );
    await expectError(
      await api("GET", `/v1/projects/${project}`, { token: outsider.token }),
      404,
      "not_found",
    );
    const events = await json(await api("GET", `/v1/projects/${project}/audit?action=auth.denied`));
    expect(events.items.map((e: any) => [e.actor.id, e.details.code])).toEqual([
      [outsider.id, "not_found"],
      [viewer.id, "forbidden"],
    ]);
  });

  it("needs audit:read", async () => {
    const project = await newProject("aud");
    const token = await projectToken(project, { role: "developer" });
    await expectError(
      await api("GET", `/v1/projects/${project}/audit`, { token: token.token }),
      403,
      "forbidden",
    );
  });
});

describe("hash chain verification", () => {
  it("is ok for an untouched chain, flushed or not", async () => {
    const project = await newProject("chain");
    await active(project);
    const before = await verify(project);
    expect(before).toMatchObject({
      ok: true,
      events: 8,
      head: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    // flushed() records two project.read events; verifying records audit.verify.
    await flushed(project);
    expect(await verify(project)).toMatchObject({ ok: true, events: 11 });
  });

  it("catches an edited row", async () => {
    const project = await newProject("chain");
    await active(project);
    const chain = await flushed(project);
    await env.DB.prepare(
      "UPDATE audit_events SET target = 'development/SOMETHING_ELSE' WHERE chain = ? AND seq = 4",
    )
      .bind(chain)
      .run();
    expect(await verify(project)).toMatchObject({ ok: false, first_bad_seq: 4 });
  });

  it("catches a deleted row", async () => {
    const project = await newProject("chain");
    await active(project);
    const chain = await flushed(project);
    await env.DB.prepare("DELETE FROM audit_events WHERE chain = ? AND seq = 3").bind(chain).run();
    expect(await verify(project)).toMatchObject({ ok: false, first_bad_seq: 3 });
  });

  it("catches reordered rows", async () => {
    const project = await newProject("chain");
    await active(project);
    const chain = await flushed(project);
    await env.DB.batch([
      env.DB.prepare("UPDATE audit_events SET seq = -1 WHERE chain = ? AND seq = 5").bind(chain),
      env.DB.prepare("UPDATE audit_events SET seq = 5 WHERE chain = ? AND seq = 6").bind(chain),
      env.DB.prepare("UPDATE audit_events SET seq = 6 WHERE chain = ? AND seq = -1").bind(chain),
    ]);
    expect(await verify(project)).toMatchObject({ ok: false, first_bad_seq: 5 });
  });

  it("catches a cut tail against the coordinator's head", async () => {
    const project = await newProject("chain");
    await active(project);
    const chain = await flushed(project);
    const { results } = await rows(chain);
    expect(results).toHaveLength(9); // 7 events and the two project.read of flushed()
    await env.DB.prepare("DELETE FROM audit_events WHERE chain = ? AND seq >= 6").bind(chain).run();
    expect(await verify(project)).toMatchObject({ ok: false, first_bad_seq: 6 });
  });

  it("keeps the chain whole when a write's batch fails: an aborted event takes its seq", async () => {
    const project = await newProject("chain");
    await env.DB.exec(
      "CREATE TRIGGER fail_versions BEFORE INSERT ON secret_versions BEGIN SELECT RAISE(ABORT, 'injected'); END;",
    );
    try {
      await expectError(
        await api("PUT", `${secretsPath(project)}/A`, { body: { value: "x" } }),
        500,
        "internal_error",
      );
    } finally {
      await env.DB.exec("DROP TRIGGER fail_versions;");
    }
    await api("PUT", `${secretsPath(project)}/A`, { body: { value: "y" } });
    const events = await json(await api("GET", `/v1/projects/${project}/audit`));
    expect(events.items.map((e: any) => `${e.seq}:${e.action}:${e.result}`)).toEqual([
      "4:audit.read:ok",
      "3:secret.write:ok",
      "2:secret.write:aborted",
      "1:project.create:ok",
    ]);
    expect(await verify(project)).toMatchObject({ ok: true, events: 5 });
    await flushed(project);
    expect(await verify(project)).toMatchObject({ ok: true, events: 8 });
  });
});

describe("fail-closed audit", () => {
  it("answers 503 without the value when the audit append fails, and stores no write", async () => {
    const project = await newProject("closed");
    await api("PUT", `${secretsPath(project)}/A`, { body: { value: "original" } });
    const token = await projectToken(project, { role: "developer" });
    const stub = await coordinatorOf(project);
    await stub.setTestHooks({ failAudit: true });
    try {
      const read = await api("GET", `${secretsPath(project)}/A`, { token: token.token });
      await expectError(read, 503, "unavailable");
      const adminRead = await api("GET", `${secretsPath(project)}?values=true`);
      expect(adminRead.status).toBe(503);
      expect(await adminRead.text()).not.toContain("original");
      await expectError(
        await api("PUT", `${secretsPath(project)}/A`, { body: { value: "changed" } }),
        503,
        "unavailable",
      );
    } finally {
      await stub.setTestHooks({ failAudit: false });
    }
    expect(await json(await api("GET", `${secretsPath(project)}/A`))).toMatchObject({
      value: "original",
      version: 1,
    });
  });

  it("refuses test hooks unless the test configuration binds QALA_TEST_HOOKS", async () => {
    const project = await newProject("closed");
    const stub = await coordinatorOf(project);
    await runInDurableObject(stub, (_instance, state) => {
      const production = new ProjectCoordinator(state, { ...env, QALA_TEST_HOOKS: undefined });
      expect(() => production.setTestHooks({ failAudit: true })).toThrow(/not enabled/);
    });
  });
});

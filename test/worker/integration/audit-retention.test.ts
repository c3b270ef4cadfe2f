// Audit retention: the cron job deletes events older than audit_retention_days
// behind a checkpoint signed with the server's key, and verify starts there.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  api,
  coordinatorOf,
  json,
  newProject,
  projectToken,
  secretsPath,
  cron,
} from "../helpers.js";

const DAY_MS = 86_400_000;

const verify = async (project: string) =>
  json(await api("GET", `/v1/projects/${project}/audit/verify`));

const checkpoints = (chain: string) =>
  env.DB.prepare("SELECT * FROM audit_checkpoints WHERE chain = ? ORDER BY seq")
    .bind(chain)
    .all<{ seq: number; hash: string; pruned_at: string; signature: string }>();

const seqs = async (chain: string) =>
  (
    await env.DB.prepare("SELECT seq FROM audit_events WHERE chain = ? ORDER BY seq")
      .bind(chain)
      .all<{ seq: number }>()
  ).results.map((r) => r.seq);

/** A project with audit_retention_days 1, some events, and its clock then moved two days on. */
async function aged() {
  const project = await newProject("ret");
  const { id: chain } = await json(
    await api("PATCH", `/v1/projects/${project}`, {
      body: { settings: { audit_retention_days: 1 } },
    }),
  );
  await api("PUT", `${secretsPath(project)}/A`, { body: { value: "one" } });
  const token = await projectToken(project, { role: "viewer" });
  for (let i = 0; i < 5; i++) await api("GET", `${secretsPath(project)}/A`, { token: token.token });
  const old = (await verify(project)).events as number;
  await (await coordinatorOf(project)).setTestHooks({ clockOffsetMs: 2 * DAY_MS });
  await api("GET", `${secretsPath(project)}/A`, { token: token.token }); // a recent event
  return { project, chain: chain as string, token, old };
}

describe("audit retention", () => {
  it("prunes events past audit_retention_days behind a signed checkpoint; verify still passes", async () => {
    const { project, chain, old } = await aged();
    await cron();
    const [checkpoint, ...more] = (await checkpoints(chain)).results;
    expect(more).toEqual([]);
    // Everything recorded before the clock moved is older than a day; verify's own event counted too.
    expect(checkpoint!.seq).toBe(old + 1);
    expect(checkpoint!.signature.split(".")).toHaveLength(3);
    const left = await seqs(chain);
    expect(left[0]).toBe(checkpoint!.seq + 1);

    const result = await verify(project);
    expect(result).toMatchObject({
      ok: true,
      checkpoint: { seq: checkpoint!.seq, hash: checkpoint!.hash },
    });
    const events = await json(await api("GET", `/v1/projects/${project}/audit?limit=100`));
    expect(events.items.every((e: any) => e.seq > checkpoint!.seq)).toBe(true);
    const prune = events.items.find((e: any) => e.action === "audit.prune");
    expect(prune).toMatchObject({
      actor: { kind: "system", id: "cron" },
      details: { through_seq: checkpoint!.seq, events: checkpoint!.seq },
    });

    // Nothing new is old enough: a second run keeps the one checkpoint.
    await cron();
    expect((await checkpoints(chain)).results).toHaveLength(1);
    expect(await verify(project)).toMatchObject({ ok: true });
  });

  it("catches a forged, edited or removed checkpoint, and a row cut after it", async () => {
    const { project, chain } = await aged();
    await cron();
    const [checkpoint] = (await checkpoints(chain)).results;
    const set = (column: string, value: string) =>
      env.DB.prepare(`UPDATE audit_checkpoints SET ${column} = ? WHERE chain = ? AND seq = ?`)
        .bind(value, chain, checkpoint!.seq)
        .run();

    await set("hash", "f".repeat(64));
    expect(await verify(project)).toMatchObject({
      ok: false,
      first_bad_seq: checkpoint!.seq,
      reason: "checkpoint signature invalid",
    });
    await set("hash", checkpoint!.hash);

    const [header, payload, signature] = checkpoint!.signature.split(".");
    const forged = JSON.stringify({ ...JSON.parse(atob(payload!)), seq: checkpoint!.seq });
    await set(
      "signature",
      `${header}.${btoa(forged).replace(/=+$/, "")}.${signature!.slice(0, -4)}AAAA`,
    );
    expect(await verify(project)).toMatchObject({
      ok: false,
      reason: "checkpoint signature invalid",
    });
    await set("signature", checkpoint!.signature);
    expect(await verify(project)).toMatchObject({ ok: true });

    // Without its checkpoint, the remaining chain does not start at genesis.
    await env.DB.prepare("DELETE FROM audit_checkpoints WHERE chain = ?").bind(chain).run();
    expect(await verify(project)).toMatchObject({ ok: false, first_bad_seq: 1 });
    await env.DB.prepare(
      "INSERT INTO audit_checkpoints (chain, seq, hash, pruned_at, signature) VALUES (?, ?, ?, ?, ?)",
    )
      .bind(chain, checkpoint!.seq, checkpoint!.hash, checkpoint!.pruned_at, checkpoint!.signature)
      .run();
    expect(await verify(project)).toMatchObject({ ok: true });

    // The first event after the checkpoint deleted: caught at its seq.
    await env.DB.prepare("DELETE FROM audit_events WHERE chain = ? AND seq = ?")
      .bind(chain, checkpoint!.seq + 1)
      .run();
    expect(await verify(project)).toMatchObject({ ok: false, first_bad_seq: checkpoint!.seq + 1 });
  });

  it("keeps everything without audit_retention_days", async () => {
    const project = await newProject("ret");
    const { id: chain } = await json(await api("GET", `/v1/projects/${project}`));
    await api("PUT", `${secretsPath(project)}/A`, { body: { value: "one" } });
    await (await coordinatorOf(project)).setTestHooks({ clockOffsetMs: 400 * DAY_MS });
    await cron();
    expect((await checkpoints(chain)).results).toEqual([]);
    expect((await seqs(chain))[0]).toBe(1);
    expect(await verify(project)).toMatchObject({ ok: true, checkpoint: null });
  });
});

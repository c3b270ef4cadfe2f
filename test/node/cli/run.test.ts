// The `qala` CLI as a process, against the hosted Worker.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createClient } from "../../../src/sdk/index.js";

const CLI = join(import.meta.dirname, "../../../dist/cli.cjs");
const url = inject("qalaUrl");
let project = "";
let token = "";

function qala(
  args: string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string } = {},
) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    input: options.input ?? "",
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      QALA_CONFIG_DIR: configDir,
      ...options.env,
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let configDir = "";
const scoped = () => ["--url", url, "--token", token, "--project", project, "--env", "production"];
const printEnv = `process.stdout.write(JSON.stringify({A: process.env.A, B: process.env.B, PATH: process.env.PATH, KEPT: process.env.KEPT}))`;

beforeAll(async () => {
  configDir = mkdtempSync(join(tmpdir(), "qala-cli-"));
  const admin = createClient({ url, token: inject("adminToken") });
  project = `cli-${Date.now().toString(36)}`;
  await admin.projects.create({ slug: project });
  await admin.secrets.bulk(project, "production", {
    set: {
      A: "alpha",
      B: 'it\'s "quoted"\nand multi-line',
      PATH: "/evil",
      KEPT: "from-qala",
      "not-a-name": "x",
    },
  });
  token = (await admin.tokens.create(project, { name: "cli", role: "admin" })).token;
});

describe("qala run", () => {
  it("injects secrets, never overrides PATH, warns about invalid names, and exits with the child's code", () => {
    const ok = qala([...scoped(), "run", "--", process.execPath, "-e", printEnv], {
      env: { KEPT: "inherited" },
    });
    expect(ok.code).toBe(0);
    const seen = JSON.parse(ok.stdout);
    expect(seen).toMatchObject({
      A: "alpha",
      B: `it's "quoted"\nand multi-line`,
      KEPT: "from-qala",
    });
    expect(seen.PATH).toBe(process.env.PATH);
    expect(ok.stderr).toMatch(/skipped not-a-name/);
    expect(ok.stderr).toMatch(/skipped PATH/);
    expect(ok.stderr).not.toContain("alpha");

    const exit = qala([...scoped(), "run", "--", process.execPath, "-e", "process.exit(7)"]);
    expect(exit.code).toBe(7);
  });

  it("warns about a revoked key instead of passing an older value", async () => {
    const admin = createClient({ url, token: inject("adminToken") });
    const { version } = await admin.secrets.set(project, "production", "REVOKED_ONE", {
      value: "leaked",
    });
    await admin.secrets.revoke(project, "production", "REVOKED_ONE", version);
    const run = qala([
      ...scoped(),
      "run",
      "--",
      process.execPath,
      "-e",
      "process.stdout.write(String(process.env.REVOKED_ONE))",
    ]);
    expect(run.stdout).toBe("undefined");
    expect(run.stderr).toMatch(/REVOKED_ONE is not set: its current version is revoked/);
  });

  it("keeps inherited variables with --preserve-env and runs shell command lines with --command", () => {
    const kept = qala(
      [...scoped(), "run", "--preserve-env", "--", process.execPath, "-e", printEnv],
      {
        env: { KEPT: "inherited" },
      },
    );
    expect(JSON.parse(kept.stdout).KEPT).toBe("inherited");
    const shell = qala([...scoped(), "run", "--command", 'test "$A" = alpha && exit 3']);
    expect(shell.code).toBe(3);
  });

  it("forwards SIGTERM to the child and exits with its code", async () => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        ...scoped(),
        "run",
        "--",
        process.execPath,
        "-e",
        "process.on('SIGTERM', () => process.exit(42)); console.log('ready'); setInterval(() => {}, 1000)",
      ],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, QALA_CONFIG_DIR: configDir } },
    );
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (d) => String(d).includes("ready") && resolve()),
    );
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(42);
  });

  it("falls back to the encrypted snapshot when the server is unreachable, within --max-age", () => {
    expect(qala([...scoped(), "run", "--", process.execPath, "-e", "0"]).code).toBe(0);
    const down = [
      "--url",
      "http://127.0.0.1:9",
      "--token",
      token,
      "--project",
      project,
      "--env",
      "production",
    ];
    const offline = qala([...down, "run", "--", process.execPath, "-e", printEnv]);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout).A).toBe("alpha");
    expect(offline.stderr).toMatch(/could not be reached.*snapshot/);
    expect(qala([...down, "run", "--no-fallback", "--", process.execPath, "-e", "0"]).code).toBe(2);
    expect(qala([...down, "run", "--max-age", "0", "--", process.execPath, "-e", "0"]).code).toBe(
      1,
    );
    const snapshot = join(configDir, "snapshots", `${project}.production.bin`);
    expect(statSync(snapshot).mode & 0o777).toBe(0o600);
    expect(statSync(join(configDir, "snapshot.key")).mode & 0o777).toBe(0o600);
  });
});

describe("qala configuration and commands", () => {
  it("logs in with a token into a 0600 credentials file, reads .qala.json, and answers whoami", () => {
    const login = qala(["--url", url, "--token", token, "login"]);
    expect(login.code).toBe(0);
    expect(statSync(join(configDir, "credentials.json")).mode & 0o777).toBe(0o600);
    const dir = mkdtempSync(join(tmpdir(), "qala-proj-"));
    expect(qala(["init", "--project", project, "--env", "production"], { cwd: dir }).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, ".qala.json"), "utf8"))).toEqual({
      project,
      env: "production",
    });
    const who = qala(["--json", "whoami"], { cwd: dir });
    expect(JSON.parse(who.stdout).principal).toMatchObject({ kind: "token" });
    const get = qala(["secrets", "get", "A", "--plain"], { cwd: dir });
    expect(get.stdout).toBe("alpha");
    // Flags beat the environment, which beats the files.
    const wrongEnv = qala(["secrets", "get", "A", "--plain"], {
      cwd: dir,
      env: { QALA_ENV: "staging" },
    });
    expect(wrongEnv.code).toBe(2);
  });

  it("sets from arguments and stdin, exports, and exits 3 on authentication errors", () => {
    expect(qala([...scoped(), "secrets", "set", "C=gamma", "D=delta"]).code).toBe(0);
    expect(qala([...scoped(), "secrets", "set", "E", "-"], { input: "from stdin" }).code).toBe(0);
    const exported = qala([...scoped(), "export", "--format", "json"]);
    expect(JSON.parse(exported.stdout)).toMatchObject({ C: "gamma", D: "delta", E: "from stdin" });
    const denied = qala([
      "--url",
      url,
      "--token",
      "qala_svc_aaaa_bbbb",
      "--project",
      project,
      "--env",
      "production",
      "secrets",
      "list",
    ]);
    expect(denied.code).toBe(3);
    expect(qala(["secrets", "get"]).code).toBe(1);
  });
});

describe("qala import and the administration commands", () => {
  it("imports dotenv, JSON and YAML files as one change each", () => {
    const dir = mkdtempSync(join(tmpdir(), "qala-import-"));
    const dotenv = join(dir, ".env");
    writeFileSync(
      dotenv,
      "# a comment\nexport FROM_DOTENV=\"line one\\nline two\"\nPLAIN=value # trailing comment\nSINGLE='$NOT_EXPANDED'\n",
    );
    writeFileSync(join(dir, "s.json"), JSON.stringify({ FROM_JSON: "j" }));
    writeFileSync(join(dir, "s.yaml"), "FROM_YAML: 'y: colon'\n");
    for (const file of [dotenv, join(dir, "s.json"), join(dir, "s.yaml")]) {
      expect(qala([...scoped(), "import", file]).code).toBe(0);
    }
    const exported = JSON.parse(qala([...scoped(), "export", "--format", "json"]).stdout);
    expect(exported).toMatchObject({
      FROM_DOTENV: "line one\nline two",
      PLAIN: "value",
      SINGLE: "$NOT_EXPANDED",
      FROM_JSON: "j",
      FROM_YAML: "y: colon",
    });
    // Round trip: what `qala export` writes, `qala import` reads back exactly, in every format.
    for (const format of ["dotenv", "json", "yaml"]) {
      const file = join(dir, `round.${format === "dotenv" ? "env" : format}`);
      expect(qala([...scoped(), "export", "--format", format, "--output", file]).code).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const other = ["--url", url, "--token", token, "--project", project, "--env", "staging"];
      expect(qala([...other, "import", file]).code).toBe(0);
      const copied = JSON.parse(qala([...other, "export", "--format", "json"]).stdout);
      expect(copied).toMatchObject(exported);
    }
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ NESTED: { a: 1 } }));
    expect(qala([...scoped(), "import", join(dir, "bad.json")]).code).toBe(1);
  });

  it("lists projects and environments, manages tokens, and reads and verifies the audit log", () => {
    const base = ["--url", url, "--token", inject("adminToken"), "--json"];
    const name = `cli-admin-${Date.now().toString(36)}`;
    expect(qala([...base, "projects", "create", name]).code).toBe(0);
    expect(
      JSON.parse(qala([...base, "projects", "list"]).stdout).map((p: any) => p.slug),
    ).toContain(name);
    const inProject = [...base, "--project", name];
    expect(qala([...inProject, "envs", "create", "preview"]).code).toBe(0);
    expect(
      JSON.parse(qala([...inProject, "envs", "list"]).stdout).map((e: any) => e.slug),
    ).toContain("preview");
    const created = JSON.parse(
      qala([...inProject, "tokens", "create", "ci", "--role", "viewer", "--ttl", "1h"]).stdout,
    );
    expect(created.token).toMatch(/^qala_svc_/);
    expect(qala([...inProject, "tokens", "revoke", created.id]).code).toBe(0);
    expect(JSON.parse(qala([...inProject, "audit", "verify"]).stdout)).toMatchObject({ ok: true });
    const events = JSON.parse(qala([...inProject, "audit", "list", "--limit", "5"]).stdout);
    expect(events.map((e: any) => e.action)).toContain("token.revoke");
    const rotated = JSON.parse(
      qala([...inProject, "--env", "development", "keys", "rotate"]).stdout,
    );
    expect(rotated).toMatchObject({ state: "done" });
    const keys = JSON.parse(qala([...inProject, "keys", "list"]).stdout);
    expect(
      keys.filter((k: any) => k.environment === "development").map((k: any) => k.state),
    ).toEqual(["active", "destroyed"]);
    expect(qala([...inProject, "envs", "delete", "preview"]).code).toBe(0);
    expect(qala([...base, "projects", "delete", name]).code).toBe(0);
  });
});

describe("qala run --watch", () => {
  it("restarts the command with the new secrets when the environment changes", async () => {
    const admin = createClient({ url, token: inject("adminToken") });
    await admin.secrets.set(project, "production", "WATCHED", { value: "first" });
    const child = spawn(
      process.execPath,
      [
        CLI,
        ...scoped(),
        "run",
        "--watch",
        "--interval",
        "0.2",
        "--grace",
        "1",
        "--",
        process.execPath,
        "-e",
        "console.log('value=' + process.env.WATCHED); setInterval(() => {}, 1000)",
      ],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, QALA_CONFIG_DIR: configDir } },
    );
    let output = "";
    const seen = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => output.includes(text) && resolve();
        child.stdout.on("data", (d) => {
          output += String(d);
          check();
        });
        check();
      });
    await seen("value=first");
    await admin.secrets.set(project, "production", "WATCHED", { value: "second" });
    await seen("value=second");
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(143);
  });
});

describe("qala secrets lifecycle commands", () => {
  it("generates, shows history, rolls back, deletes and restores", () => {
    expect(
      qala([...scoped(), "secrets", "generate", "GEN", "--length", "12", "--charset", "hex"]).code,
    ).toBe(0);
    const generated = qala([...scoped(), "secrets", "get", "GEN", "--plain"]).stdout;
    expect(generated).toMatch(/^[0-9a-f]{12}$/);
    expect(qala([...scoped(), "secrets", "set", "GEN=manual"]).code).toBe(0);
    const history = JSON.parse(qala([...scoped(), "--json", "secrets", "history", "GEN"]).stdout);
    expect(history.map((v: any) => v.version)).toEqual([2, 1]);
    expect(qala([...scoped(), "secrets", "rollback", "GEN", "--version", "1"]).code).toBe(0);
    expect(qala([...scoped(), "secrets", "get", "GEN", "--plain"]).stdout).toBe(generated);
    expect(qala([...scoped(), "secrets", "delete", "GEN"]).code).toBe(0);
    expect(qala([...scoped(), "secrets", "get", "GEN"]).code).toBe(2);
    expect(qala([...scoped(), "secrets", "restore", "GEN"]).code).toBe(0);
    // No rotation policy: the server answers 409, the CLI exits 2.
    expect(qala([...scoped(), "secrets", "rotate", "GEN"]).code).toBe(2);
  });
});

describe("qala login --sso", () => {
  it("logs in through the identity provider with PKCE and a loopback callback", async () => {
    const home = mkdtempSync(join(tmpdir(), "qala-sso-"));
    const child = spawn(process.execPath, [CLI, "--url", url, "login", "--sso", "--no-browser"], {
      env: { PATH: process.env.PATH, HOME: home, QALA_CONFIG_DIR: home },
    });
    let stderr = "";
    const address = await new Promise<string>((resolve) =>
      child.stderr.on("data", (d) => {
        stderr += String(d);
        const m = /(http:\/\/127\.0\.0\.1:\d+\/v1\/auth\/sso\/start\S+)/.exec(stderr);
        if (m) resolve(m[1]!);
      }),
    );
    // The "browser": start → identity provider (approves at once) → the CLI's loopback callback.
    const toIdp = await fetch(address, { redirect: "manual" });
    const back = await fetch(toIdp.headers.get("Location")!, { redirect: "manual" });
    const callback = await fetch(back.headers.get("Location")!);
    expect(await callback.text()).toMatch(/Logged in/);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    const creds = JSON.parse(readFileSync(join(home, "credentials.json"), "utf8"));
    expect(creds.refresh_token).toMatch(/^qala_rt_/);
    const who = spawnSync(process.execPath, [CLI, "--json", "whoami"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: home, QALA_CONFIG_DIR: home },
    });
    expect(JSON.parse(who.stdout).principal).toMatchObject({
      kind: "user",
      name: "sso.user@example.com",
    });
  });
});

describe("qala secrets push wrangler", () => {
  it("hands the environment to `wrangler secret bulk` through stdin, never a file", () => {
    const bin = mkdtempSync(join(tmpdir(), "fake-wrangler-"));
    const record = join(bin, "record.json");
    writeFileSync(
      join(bin, "wrangler"),
      `#!${process.execPath}
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  require("fs").writeFileSync(${JSON.stringify(record)}, JSON.stringify({ args: process.argv.slice(2), stdin: Buffer.concat(chunks).toString() }));
});
`,
      { mode: 0o755 },
    );
    const pushed = qala(
      [...scoped(), "secrets", "push", "wrangler", "--name", "api", "--wrangler-env", "prod"],
      {
        env: { PATH: `${bin}:${process.env.PATH}` },
      },
    );
    expect(pushed.code).toBe(0);
    const seen = JSON.parse(readFileSync(record, "utf8"));
    expect(seen.args).toEqual(["secret", "bulk", "--name", "api", "--env", "prod"]);
    expect(JSON.parse(seen.stdin)).toMatchObject({ A: "alpha", KEPT: "from-qala" });
  });

  it("gives `wrangler deploy` the environment as build-time variables through `qala run`", () => {
    const bin = mkdtempSync(join(tmpdir(), "fake-wrangler-"));
    const record = join(bin, "record.json");
    writeFileSync(
      join(bin, "wrangler"),
      `#!${process.execPath}
require("fs").writeFileSync(${JSON.stringify(record)}, JSON.stringify({ args: process.argv.slice(2), A: process.env.A, B: process.env.B }));
`,
      { mode: 0o755 },
    );
    const deployed = qala([...scoped(), "run", "--", "wrangler", "deploy", "--minify"], {
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    expect(deployed.code).toBe(0);
    const seen = JSON.parse(readFileSync(record, "utf8"));
    expect(seen).toEqual({
      args: ["deploy", "--minify"],
      A: "alpha",
      B: 'it\'s "quoted"\nand multi-line',
    });
  });
});

// The bundled GitHub Action (dist/action.js) as the runner starts it: a node
// process with INPUT_* variables, GITHUB_ENV/GITHUB_OUTPUT files and the
// runner's ID-token endpoint (simulated by a local issuer that a trust policy
// accepts), against the hosted Worker over real HTTP.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { root } from "../../../scripts/worker-host.mjs";
import { createClient } from "../../../src/sdk/index.js";
import {
  ACTIONS_REQUEST_TOKEN,
  GITHUB_WORKLOAD,
  startTestIssuer,
  type TestIssuer,
} from "../../support/oidc-issuer.js";

const ACTION = join(root, "dist/action.js");
const url = inject("qalaUrl");
const PEM =
  "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
const SECRETS = {
  DB_URL: "postgres://user:p@ss@db/app",
  PRIVATE_KEY: PEM,
  QUOTED: `it's "quoted" $HOME`,
};
const AUDIENCE = "https://qala.test";

let issuer: TestIssuer;
let project = "";
let projectToken = "";
const dirs: string[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer();
  const admin = createClient({ url, token: inject("adminToken") });
  project = `action-${Date.now().toString(36)}`;
  await admin.projects.create({ slug: project });
  await admin.secrets.bulk(project, "production", { set: SECRETS });
  await admin.secrets.bulk(project, "staging", { set: { "bad.name": "v", OK: "fine" } });
  // A deploy job reads production: a custom role for just that.
  await admin.roles.create(project, "deployer", ["project:read", "secrets:list", "secrets:read"]);
  await admin.trusts.create(project, {
    issuer: issuer.url,
    audience: AUDIENCE,
    role: "deployer",
    claims: { sub: GITHUB_WORKLOAD.sub },
  });
  projectToken = (await admin.tokens.create(project, { name: "ci", role: "deployer" })).token;
});

afterAll(async () => {
  await issuer.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  env: string;
  output: string;
}

/** Runs the bundle as the runner does (async: the Worker and issuer are in this process's loop). */
function runAction(inputs: Record<string, string>, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "qala-action-"));
  dirs.push(dir);
  const files = { GITHUB_ENV: join(dir, "env"), GITHUB_OUTPUT: join(dir, "output") };
  writeFileSync(files.GITHUB_ENV, "");
  writeFileSync(files.GITHUB_OUTPUT, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    ...files,
    ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer.url}/actions-id-token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: ACTIONS_REQUEST_TOKEN,
    ...Object.fromEntries(
      Object.entries({ url, project, environment: "production", ...inputs }).map(([k, v]) => [
        `INPUT_${k.toUpperCase()}`,
        v,
      ]),
    ),
    ...extraEnv,
  };
  return new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, [ACTION], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) =>
      resolve({
        code,
        stdout,
        stderr,
        env: readFileSync(files.GITHUB_ENV, "utf8"),
        output: readFileSync(files.GITHUB_OUTPUT, "utf8"),
      }),
    );
  });
}

/** Reads a GITHUB_ENV / GITHUB_OUTPUT file: `NAME<<DELIM\nvalue\nDELIM` entries. */
function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(ghadelimiter_[0-9a-f-]+)$/.exec(lines[i]!);
    if (!match) {
      if (lines[i]) throw new Error(`unexpected line in a file command: ${lines[i]}`);
      continue;
    }
    const end = lines.indexOf(match[2]!, i + 1);
    expect(end).toBeGreaterThan(i);
    result[match[1]!] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return result;
}

/** Everything printed, with the masking commands removed: must not contain a value. */
const printedBesidesMasks = (run: Run) =>
  `${run.stdout.replace(/^::add-mask::.*$/gm, "")}\n${run.stderr}`;

function expectNoValues(run: Run, values: string[]) {
  const printed = printedBesidesMasks(run);
  for (const value of values) {
    for (const line of value.split("\n")) expect(printed).not.toContain(line);
  }
}

describe("GitHub Action", () => {
  it("exchanges the job's OIDC token, masks every value (and each line) first, and exports them", async () => {
    const run = await runAction({ audience: AUDIENCE });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);

    // Masks: every value and every line of the PEM, before any other command.
    const lines = run.stdout.split("\n").filter(Boolean);
    const masks = lines.filter((l) => l.startsWith("::add-mask::")).map((l) => l.slice(12));
    for (const value of [SECRETS.DB_URL, SECRETS.QUOTED, ...PEM.split("\n")]) {
      expect(masks).toContain(value);
    }
    expect(masks).toContain(PEM.replaceAll("\n", "%0A")); // the whole value, escaped
    // Before the values' masks, only authentication (a debug line, the tokens' masks);
    // after them, one summary line.
    const valueMasks = [SECRETS.DB_URL, SECRETS.QUOTED, ...PEM.split("\n")].map((v) =>
      lines.indexOf(`::add-mask::${v}`),
    );
    const first = Math.min(...valueMasks);
    const last = Math.max(...valueMasks);
    expect(lines.slice(first, last + 1).every((l) => l.startsWith("::add-mask::"))).toBe(true);
    expect(lines.slice(last + 1)).toEqual([
      `3 secret(s) of ${project}/production exported to the environment and outputs`,
    ]);
    expectNoValues(run, Object.values(SECRETS));

    expect(parseFileCommands(run.env)).toEqual(SECRETS);
    expect(parseFileCommands(run.output)).toEqual(SECRETS);
    expect(run.env).toMatch(/^PRIVATE_KEY<<ghadelimiter_/m);
  });

  it("exports only the chosen keys under their names, as outputs only when export-env is false", async () => {
    const run = await runAction({
      method: "token",
      token: projectToken,
      secrets: "DB_URL | DATABASE_URL\n# a comment\nQUOTED",
      "export-env": "false",
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`::add-mask::${projectToken}`);
    expect(run.env).toBe("");
    expect(parseFileCommands(run.output)).toEqual({
      DATABASE_URL: SECRETS.DB_URL,
      QUOTED: SECRETS.QUOTED,
    });
    // Not chosen, but fetched: masked all the same, and exported nowhere.
    expect(run.stdout).toContain("::add-mask::-----BEGIN PRIVATE KEY-----");
    expect(run.output).not.toContain("BEGIN PRIVATE KEY");
  });

  it("fails clearly, printing no value, on invalid names, missing keys and bad inputs", async () => {
    const invalid = await runAction({ environment: "staging", audience: AUDIENCE });
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain("::error::not valid environment variable names: bad.name");
    expect(invalid.env).toBe("");
    expectNoValues(invalid, ["fine"]);
    expect(invalid.stdout).toContain("::add-mask::fine"); // masked before the refusal

    const mapped = await runAction({
      environment: "staging",
      audience: AUDIENCE,
      secrets: "bad.name | BAD_NAME",
    });
    expect(mapped.code).toBe(0);
    expect(parseFileCommands(mapped.env)).toEqual({ BAD_NAME: "v" });

    const missing = await runAction({ audience: AUDIENCE, secrets: "NOPE\nDB_URL" });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("::error::cannot export not in the environment: NOPE");
    expect(missing.env).toBe("");

    const method = await runAction({ method: "password" });
    expect(method.stdout).toContain('::error::method must be "oidc" or "token"');

    const noIdToken = await runAction({}, { ACTIONS_ID_TOKEN_REQUEST_URL: "" });
    expect(noIdToken.code).toBe(1);
    expect(noIdToken.stdout).toContain("permissions: id-token: write");
  });

  it("is refused when the ID token does not satisfy the trust policy", async () => {
    const wrongAudience = await runAction({ audience: "https://elsewhere.test" });
    expect(wrongAudience.code).toBe(1);
    expect(wrongAudience.stdout).toMatch(/::error::.*\(unauthorized/);
    expect(wrongAudience.env).toBe("");
  });

  it("retries transient failures: the ID-token endpoint, the exchange and the fetch", async () => {
    // The runner's endpoint answers 503 twice; a proxy in front of Qalá fails
    // the first exchange (502) and the first fetch (503).
    await fetch(`${issuer.url}/workload`, { method: "POST", body: JSON.stringify({ fail: 2 }) });
    const failures = new Map([
      ["POST /v1/auth/oidc", 502],
      ["GET /export", 503],
    ]);
    const proxy = await flakyProxy(url, failures);
    try {
      const run = await runAction({ url: proxy.url, audience: AUDIENCE });
      expect(run.code).toBe(0);
      expect(parseFileCommands(run.env)).toEqual(SECRETS);
      expect(proxy.failed).toEqual(["POST /v1/auth/oidc", "GET /export"]);
    } finally {
      await proxy.close();
    }
  });

  it("is bundled: dist/action.js is what `npm run build:action` makes of the sources", () => {
    const dir = mkdtempSync(join(tmpdir(), "qala-action-build-"));
    dirs.push(dir);
    const fresh = join(dir, "action.js");
    const script = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts[
      "build:action"
    ] as string;
    const built = spawnSync(script.replace("--outfile=dist/action.js", `--outfile=${fresh}`), {
      cwd: root,
      shell: true,
      encoding: "utf8",
    });
    expect(built.status, built.stderr).toBe(0);
    const stale =
      readFileSync(fresh, "utf8") !== readFileSync(ACTION, "utf8")
        ? "dist/action.js is stale: run `npm run build:action` and commit it"
        : "";
    expect(stale).toBe("");
  });
});

/** A proxy to `target` that answers the first request matching each entry with its status. */
async function flakyProxy(target: string, failures: Map<string, number>) {
  const failed: string[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", target).pathname;
    const entry = [...failures.keys()].find((k) => {
      const [method, suffix] = k.split(" ");
      return req.method === method && path.endsWith(suffix!);
    });
    if (entry) {
      const status = failures.get(entry)!;
      failures.delete(entry);
      failed.push(entry);
      req.resume();
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { code: "unavailable", message: "proxy says no" } }));
      return;
    }
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

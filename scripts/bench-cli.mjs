#!/usr/bin/env node
// `npm run bench:cli`: how long `qala run -- node -e 0` takes against the built
// Worker hosted locally, next to a bare `node -e 0`, over repeated runs (median).
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWorker, hostWorker, root } from "./worker-host.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const OUT_DIR = ".build/bench-cli";

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(args, env) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { env, stdio: "ignore" });
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

spawnSync("npm", ["run", "--silent", "build:cli"], { cwd: root, stdio: "inherit" });
buildWorker(OUT_DIR);
const host = await hostWorker({ outDir: OUT_DIR });
try {
  const call = async (method, path, body, token) => {
    const res = await fetch(`${host.origin}${path}`, {
      method,
      headers: {
        "Content-Type": "application/json",
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
    return res.json();
  };
  const { api_token: admin } = await call("POST", "/v1/bootstrap", {
    bootstrap_token: host.bootstrapToken,
    email: "bench@example.com",
    password: "benchmark password",
  });
  await call("POST", "/v1/projects", { slug: "bench" }, admin);
  const set = Object.fromEntries(
    Array.from({ length: 50 }, (_, i) => [`SECRET_${i}`, `value-${i}`]),
  );
  await call("PATCH", "/v1/projects/bench/environments/production/secrets", { set }, admin);
  const { token } = await call(
    "POST",
    "/v1/projects/bench/tokens",
    { name: "cli", role: "admin" },
    admin,
  );
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    QALA_CONFIG_DIR: mkdtempSync(join(tmpdir(), "qala-bench-")),
    QALA_URL: host.origin,
    QALA_TOKEN: token,
    QALA_PROJECT: "bench",
    QALA_ENV: "production",
  };
  const cli = join(root, "dist/cli.cjs");
  const bare = time(["-e", "0"], env);
  const run = time([cli, "run", "--", process.execPath, "-e", "0"], env);
  const offline = time([cli, "run", "--fallback-only", "--", process.execPath, "-e", "0"], env);
  console.log(`| node -e 0 (floor) | ${bare.toFixed(0)} ms |`);
  console.log(
    `| qala run -- node -e 0 (50 secrets, payload encryption on) | ${run.toFixed(0)} ms |`,
  );
  console.log(`| qala run --fallback-only -- node -e 0 (snapshot) | ${offline.toFixed(0)} ms |`);
} finally {
  await host.dispose();
}

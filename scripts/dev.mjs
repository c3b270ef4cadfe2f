#!/usr/bin/env node
// `npm start`: generates .dev.vars on first start, applies the D1 migrations to
// the local database, then serves the Worker on http://localhost:8787.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`Qalá needs Node.js >= 22.12 (wrangler does); this is ${process.version}.`);
  console.error("Install it with: npm install --prefix ~/.node22 node@22 and put");
  console.error("~/.node22/node_modules/node/bin first on your PATH.");
  process.exit(1);
}

const wrangler = (args, options = {}) =>
  spawnSync("npx", ["wrangler", ...args], { cwd: root, stdio: "inherit", ...options });

const varsPath = `${root}.dev.vars`;
if (!existsSync(varsPath)) {
  const masterKey = `dev1:${randomBytes(32).toString("base64")}`;
  const bootstrapToken = randomBytes(24).toString("base64url");
  writeFileSync(
    varsPath,
    [
      "# Local development secrets for `npm start` (never commit this file).",
      `QALA_MASTER_KEY=${masterKey}`,
      `QALA_BOOTSTRAP_TOKEN=${bootstrapToken}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  console.log(`
  Created .dev.vars with a development master key and this bootstrap token:

    ${bootstrapToken}

  It is shown once. When the server is up, create the first admin:

    curl -s http://localhost:8787/v1/bootstrap -H 'Content-Type: application/json' \\
      -d '{"bootstrap_token":"${bootstrapToken}","email":"you@example.com","password":"a long passphrase"}'

  The answer holds an instance-admin API token (qala_admin_...). See README.md.
`);
}

const migrated = wrangler(["d1", "migrations", "apply", "DB", "--local"], {
  env: { ...process.env, CI: "true" },
});
if (migrated.status !== 0) process.exit(migrated.status ?? 1);

const dev = spawn("npx", ["wrangler", "dev", "--port", "8787", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => dev.kill(signal));
}
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

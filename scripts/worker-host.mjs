// Hosts the built Worker straight on workerd through Miniflare's API (no dev
// proxy, request logging off), with local D1 migrated: for `npm run bench` and
// for the Node tests of the SDK and CLI, which talk to it over real HTTP.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";

export const root = fileURLToPath(new URL("..", import.meta.url));

// The Miniflare that this wrangler ships (not another copy in node_modules).
const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler"));
const { Miniflare, convertV4MiniflareOptions } = await import(
  pathToFileURL(fromWrangler.resolve("miniflare")).href
);

/** Bundles the Worker as `wrangler deploy` would, into `outDir` (inside the project). */
export function buildWorker(outDir) {
  const result = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outDir], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_LOG: "error" },
  });
  if (result.status !== 0) throw new Error("wrangler build failed");
}

/**
 * Starts the built Worker; resolves to its origin and a dispose function.
 * With `persistDir`, D1 and Durable Object storage live there, so a second
 * host on the same directory (say, with another QALA_MASTER_KEY) sees the
 * same data; migrations already applied are skipped. `companions` are more
 * workers (Miniflare worker options) beside it, e.g. one bound to it.
 */
export async function hostWorker({
  outDir,
  port = 0,
  bindings = {},
  extra = {},
  persistDir,
  companions = [],
}) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(`${root}wrangler.toml`);
  delete workerOptions.modulesRules;
  for (const [name, value] of Object.entries(workerOptions)) {
    if (value && typeof value === "object" && !Array.isArray(value) && !Object.keys(value).length) {
      delete workerOptions[name];
    }
  }
  const qala = {
    ...workerOptions,
    name: workerOptions.name ?? "qala",
    bindings: {
      ...workerOptions.bindings,
      QALA_MASTER_KEY: `host:${randomBytes(32).toString("base64")}`,
      QALA_BOOTSTRAP_TOKEN: "host-bootstrap",
      ...bindings,
    },
    modules: true,
    scriptPath: `${root}${outDir}/index.js`,
  };
  // Qalá serves HTTP (the first worker); companions are reached through getWorker.
  const options = convertV4MiniflareOptions(
    companions.length
      ? { host: "127.0.0.1", port, workers: [qala, ...companions] }
      : { ...qala, host: "127.0.0.1", port },
  );
  options.logRequests = false;
  if (persistDir) {
    options.resourcePersistencePath = persistDir;
  }
  Object.assign(options, extra);
  const mf = new Miniflare(options);
  const url = await mf.ready;
  const db = await mf.getD1Database("DB");
  const migrations = readdirSync(`${root}migrations`)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  // The table wrangler keeps its own record of applied migrations in.
  await db
    .prepare(
      "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
    )
    .run();
  const applied = new Set(
    (await db.prepare("SELECT name FROM d1_migrations").all()).results.map((r) => r.name),
  );
  for (const file of migrations.filter((f) => !applied.has(f))) {
    const sql = readFileSync(`${root}migrations/${file}`, "utf8");
    for (const statement of unstable_splitSqlQuery(sql)) await db.prepare(statement).run();
    await db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(file).run();
  }
  return {
    origin: url.origin,
    bootstrapToken: "host-bootstrap",
    db,
    getWorker: (name) => mf.getWorker(name),
    dispose: () => mf.dispose(),
  };
}

// The `qala` command line. Exit codes: 0 success, 1 usage or local error,
// 2 server/API error, 3 authentication or permission error; `qala run` exits
// with the child's code.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { formatOf, parseSecretsFile } from "./secrets-file.js";
import { Command, CommanderError } from "commander";
import { AuthError, QalaError, createClient, type QalaClient } from "../sdk/index.js";
import {
  forgetCredentials,
  readCredentials,
  resolveSettings,
  saveCredentials,
  type Settings,
} from "./config.js";
import { childEnvironment, runChild, watchChild } from "./run.js";
import { promptHidden, ssoLogin } from "./sso.js";
import { loadSnapshot, saveSnapshot, snapshotPath } from "./snapshot.js";

class UsageError extends Error {}

const program = new Command("qala")
  .description("Qalá secrets manager")
  .option("--url <url>", "server URL (QALA_URL)")
  .option("--token <token>", "API or access token (QALA_TOKEN)")
  .option("--project <project>", "project slug (QALA_PROJECT)")
  .option("--env <env>", "environment slug (QALA_ENV)")
  .option("--json", "machine-readable output")
  .showHelpAfterError()
  .exitOverride();

const settings = (): Settings => resolveSettings(program.opts<Settings>());
const json = () => program.opts<{ json?: boolean }>().json === true;
const print = (human: string, data: unknown) =>
  process.stdout.write(json() ? `${JSON.stringify(data)}\n` : `${human}\n`);

function client(): QalaClient {
  const s = settings();
  if (!s.url) throw new UsageError("no server URL: use --url, QALA_URL or `qala login --url`");
  const url = s.url;
  return createClient({ url, token: () => currentToken(url, s.token), userAgent: "qala-cli" });
}

let refreshed: Promise<string> | undefined;

/**
 * The token to send. A user session stored by `qala login` (an access token
 * and its refresh token) is refreshed once its access token is about to expire.
 */
async function currentToken(url: string, token: string | undefined): Promise<string | undefined> {
  const stored = readCredentials();
  if (!token || token !== stored.token || !stored.refresh_token || !expiresSoon(token))
    return token;
  refreshed ??= createClient({ url })
    .auth.refresh(stored.refresh_token)
    .then((pair) => {
      saveCredentials({ token: pair.access_token, refresh_token: pair.refresh_token });
      return pair.access_token;
    });
  return refreshed;
}

/** True for a JWT whose exp is within 30 s (API tokens are not JWTs and never expire this way). */
function expiresSoon(token: string): boolean {
  const payload = token.split(".")[1];
  if (!payload || token.startsWith("qala_")) return false;
  try {
    const { exp } = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      exp?: number;
    };
    return typeof exp === "number" && exp * 1000 < Date.now() + 30_000;
  } catch {
    return false;
  }
}

function scope(): { project: string; env: string } {
  const s = settings();
  if (!s.project || !s.env) {
    throw new UsageError(
      "no project or environment: use --project/--env, QALA_PROJECT/QALA_ENV or `qala init`",
    );
  }
  return { project: s.project, env: s.env };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

program
  .command("login")
  .description("store credentials for this machine")
  .option("--email <email>", "log in with email and password (prompted without echo)")
  .option("--sso", "log in through your identity provider in the browser")
  .option("--no-browser", "with --sso: only print the address to open")
  .action(async (opts: { email?: string; sso?: boolean; browser: boolean }) => {
    const flags = program.opts<Settings>();
    const url = flags.url ?? settings().url;
    if (!url) throw new UsageError("give --url for the first login");
    let token = flags.token;
    let refresh: string | undefined;
    if (opts.sso) {
      ({ access_token: token, refresh_token: refresh } = await ssoLogin(url, {
        browser: opts.browser,
      }));
    } else if (opts.email) {
      const password = await promptHidden("Password: ");
      ({ access_token: token, refresh_token: refresh } = await createClient({ url }).auth.login(
        opts.email,
        password,
      ));
    }
    if (!token) throw new UsageError("give --token, --email or --sso");
    const me = await createClient({ url, token }).me();
    saveCredentials({ url, token, refresh_token: refresh });
    print(`Logged in to ${url} as ${String(me.principal.name)}`, { url, principal: me.principal });
  });

program
  .command("logout")
  .description("forget stored credentials")
  .action(() => {
    forgetCredentials();
    print("Logged out", { ok: true });
  });

program.command("whoami").action(async () => {
  const me = await client().me();
  print(
    `${String(me.principal.kind)} ${String(me.principal.name)} (${String(me.principal.id)})`,
    me,
  );
});

program
  .command("init")
  .description("write .qala.json here from --project and --env (no secrets)")
  .action(() => {
    // --project and --env are the global options (flags beat everything else).
    const { project, env = "development" } = program.opts<Settings>();
    if (!project) throw new UsageError("give --project (and --env, default development)");
    writeFileSync(".qala.json", JSON.stringify({ project, env }, null, 2) + "\n");
    print(`Wrote .qala.json (${project}/${env})`, { project, env });
  });

const secrets = program.command("secrets").description("read and write secrets");

secrets
  .command("list")
  .option("--reveal", "include values")
  .action(async (opts: { reveal?: boolean }) => {
    const { project, env } = scope();
    const page = await client().secrets.list(project, env, { values: opts.reveal, limit: 1000 });
    print(
      page.items
        .map((i) => (opts.reveal ? `${i.key}=${i.value ?? ""}` : `${i.key}\tv${i.version}`))
        .join("\n"),
      page.items,
    );
  });

secrets
  .command("get <key>")
  .option("--version <n>", "a version", Number)
  .option("--plain", "print only the value")
  .action(async (key: string, opts: { version?: number; plain?: boolean }) => {
    const { project, env } = scope();
    const secret = await client().secrets.get(project, env, key, opts.version);
    if (opts.plain) process.stdout.write(secret.value);
    else print(`${secret.key}=${secret.value} (v${secret.version})`, secret);
  });

secrets
  .command("set <assignments...>")
  .description("KEY=VALUE ... or KEY - (value from stdin)")
  .option("--if-version <n>", "check-and-set against this version", Number)
  .action(async (assignments: string[], opts: { ifVersion?: number }) => {
    const { project, env } = scope();
    const values: Record<string, string> = {};
    if (assignments.length === 2 && assignments[1] === "-") {
      values[assignments[0]!] = await readStdin();
    } else {
      for (const a of assignments) {
        const eq = a.indexOf("=");
        if (eq < 1) throw new UsageError(`not KEY=VALUE: ${a.split("=")[0]}`);
        values[a.slice(0, eq)] = a.slice(eq + 1);
      }
    }
    const c = client();
    const entries = Object.entries(values);
    if (entries.length === 1) {
      const [key, value] = entries[0]!;
      const r = await c.secrets.set(project, env, key, { value }, { ifVersion: opts.ifVersion });
      print(`${key}: v${r.version}`, r);
    } else {
      const r = await c.secrets.bulk(project, env, { set: values });
      print(`${r.changed} changed`, r);
    }
  });

secrets
  .command("delete <key>")
  .option("--purge", "destroy every version now")
  .action(async (key: string, opts: { purge?: boolean }) => {
    const { project, env } = scope();
    await client().secrets.delete(project, env, key, opts.purge);
    print(`${key} deleted`, { key, deleted: true });
  });

secrets
  .command("generate <key>")
  .option("--length <n>", "characters", Number, 32)
  .option("--charset <charset>", "alphanumeric, base64url, hex or ascii", "alphanumeric")
  .action(
    async (
      key: string,
      opts: { length: number; charset: "alphanumeric" | "base64url" | "hex" | "ascii" },
    ) => {
      const { project, env } = scope();
      const r = await client().secrets.set(project, env, key, { generate: opts });
      print(`${key}: v${r.version} (generated; read it with \`qala secrets get ${key}\`)`, r);
    },
  );

secrets.command("history <key>").action(async (key: string) => {
  const { project, env } = scope();
  const page = await client().secrets.versions(project, env, key);
  const line = (v: (typeof page.items)[number]) =>
    `v${v.version}\t${v.created_at}\t${v.created_by ?? ""}${v.revoked_at ? "\trevoked" : ""}${v.destroyed_at ? "\tdestroyed" : ""}`;
  print(page.items.map(line).join("\n"), page.items);
});

secrets
  .command("rollback <key>")
  .requiredOption("--version <n>", "the version whose value becomes current", Number)
  .action(async (key: string, opts: { version: number }) => {
    const { project, env } = scope();
    const r = await client().secrets.rollback(project, env, key, opts.version);
    print(`${key}: v${r.version} (value of v${opts.version})`, r);
  });

secrets.command("rotate <key>").action(async (key: string) => {
  const { project, env } = scope();
  const r = await client().secrets.rotate(project, env, key);
  print(`${key}: v${r.version} (rotated)`, r);
});

secrets.command("restore <key>").action(async (key: string) => {
  const { project, env } = scope();
  const r = await client().secrets.restore(project, env, key);
  print(`${key} restored (v${r.version})`, r);
});

const push = secrets.command("push").description("hand the environment to another tool");
push
  .command("wrangler")
  .description(
    "set every secret on a Cloudflare Worker with `wrangler secret bulk` (through stdin, never a file)",
  )
  .option("--name <worker>", "the Worker's name (default: wrangler's configuration)")
  .option("--wrangler-env <env>", "the wrangler environment")
  .action(async (opts: { name?: string; wranglerEnv?: string }) => {
    const { project, env } = scope();
    const { secrets: values, skipped } = await client().getEnvironment(project, env);
    for (const key of skipped)
      process.stderr.write(`qala: ${key} left out: its current version is revoked\n`);
    const args = ["secret", "bulk"];
    if (opts.name) args.push("--name", opts.name);
    if (opts.wranglerEnv) args.push("--env", opts.wranglerEnv);
    const code = await new Promise<number>((resolve) => {
      const child = spawn("wrangler", args, { stdio: ["pipe", "inherit", "inherit"] });
      child.on("error", (error) => {
        process.stderr.write(`qala: cannot run wrangler: ${error.message}\n`);
        resolve(127);
      });
      child.on("exit", (c) => resolve(c ?? 1));
      child.stdin.end(JSON.stringify(values));
    });
    if (code === 0)
      print(`pushed ${Object.keys(values).length} secrets to wrangler`, {
        pushed: Object.keys(values).length,
      });
    process.exitCode = code;
  });

program
  .command("export")
  .option("--format <format>", "dotenv, json, yaml or shell", "dotenv")
  .option("--output <file>", "write to a file (mode 0600) instead of stdout")
  .action(async (opts: { format: "dotenv" | "json" | "yaml" | "shell"; output?: string }) => {
    const { project, env } = scope();
    const { body, skipped } = await client().export(project, env, opts.format);
    if (skipped.length) process.stderr.write(`qala: left out: ${skipped.join(", ")}\n`);
    if (opts.output) writeFileSync(opts.output, body, { mode: 0o600 });
    else process.stdout.write(body);
  });

program
  .command("run")
  .description("run a command with the environment's secrets as variables")
  .option("--preserve-env", "do not override variables already set")
  .option("--command <command>", "run through /bin/sh -c (for a && b)")
  .option("--fallback <file>", "snapshot file to use when the server cannot be reached")
  .option("--fallback-only", "use the snapshot without asking the server")
  .option("--no-fallback", "never use a snapshot")
  .option("--max-age <seconds>", "refuse a snapshot older than this", Number, 86_400)
  .option("--watch", "restart the command when the environment changes")
  .option("--interval <seconds>", "how often --watch asks (default 10)", Number, 10)
  .option("--grace <seconds>", "time to exit after SIGTERM before SIGKILL (default 10)", Number, 10)
  .argument("[command...]")
  .action(async (command: string[], opts: RunOptions) => {
    if (!opts.command && command.length === 0) throw new UsageError("give a command after --");
    const { project, env } = scope();
    const secretsFor = await fetchWithFallback(project, env, opts);
    const { env: childEnv, skipped } = childEnvironment(
      process.env,
      secretsFor,
      opts.preserveEnv === true,
    );
    for (const s of skipped) process.stderr.write(`qala: skipped ${s}\n`);
    const argv = opts.command ? [opts.command] : command;
    if (!opts.watch) {
      process.exitCode = await runChild(argv, childEnv, Boolean(opts.command));
      return;
    }
    const s = settings();
    const watcher = createClient({ url: s.url!, token: s.token, cacheTtlMs: 0, attempts: 1 });
    const poll = async () => {
      const fresh = await watcher.getEnvironment(project, env);
      const next = childEnvironment(process.env, fresh.secrets, opts.preserveEnv === true);
      return { etag: fresh.etag, env: next.env };
    };
    const first = await poll().catch(() => ({ etag: "", env: childEnv }));
    process.exitCode = await watchChild(argv, Boolean(opts.command), poll, first, {
      intervalMs: opts.interval * 1000,
      graceMs: opts.grace * 1000,
    });
  });

program
  .command("import <file>")
  .description("one atomic change of every key in a dotenv, JSON or YAML file")
  .option("--format <format>", "dotenv, json or yaml (default: from the file name)")
  .action(async (file: string, opts: { format?: string }) => {
    const { project, env } = scope();
    const values = parseSecretsFile(readFileSync(file, "utf8"), opts.format ?? formatOf(file));
    const result = await client().secrets.bulk(project, env, { set: values });
    print(`${result.changed} keys imported`, result);
  });

const projects = program.command("projects").description("projects");
projects.command("list").action(async () => {
  const page = await client().projects.list({ limit: 1000 });
  print(page.items.map((p) => p.slug).join("\n"), page.items);
});
projects.command("create <slug>").action(async (slug: string) => {
  const project = await client().projects.create({ slug });
  print(`created ${project.slug} (${project.id})`, project);
});
projects.command("delete <slug>").action(async (slug: string) => {
  await client().projects.delete(slug);
  print(`deleted ${slug}`, { slug, deleted: true });
});

const envs = program.command("envs").description("environments of the project");
envs.command("list").action(async () => {
  const page = await client().environments.list(projectOnly());
  print(page.items.map((e) => e.slug).join("\n"), page.items);
});
envs.command("create <slug>").action(async (slug: string) => {
  const environment = await client().environments.create(projectOnly(), slug);
  print(`created ${environment.slug}`, environment);
});
envs
  .command("delete <slug>")
  .option("--force", "also when it holds secrets")
  .action(async (slug: string, opts: { force?: boolean }) => {
    await client().environments.delete(projectOnly(), slug, opts.force);
    print(`deleted ${slug}`, { slug, deleted: true });
  });

const tokens = program.command("tokens").description("project API tokens");
tokens
  .command("create <name>")
  .option("--role <role>", "built-in or custom role", "viewer")
  .option("--env <envs...>", "limit to these environments")
  .option("--ttl <duration>", "lifetime, e.g. 3600s, 90m, 12h, 30d")
  .option("--ip <cidrs...>", "IP allowlist")
  .action(
    async (name: string, opts: { role: string; env?: string[]; ttl?: string; ip?: string[] }) => {
      const created = await client().tokens.create(projectOnly(), {
        name,
        role: opts.role,
        environments: opts.env,
        ttl_seconds: opts.ttl ? seconds(opts.ttl) : undefined,
        ip_allowlist: opts.ip,
      });
      print(created.token, created);
    },
  );
tokens.command("list").action(async () => {
  const page = await client().tokens.list(projectOnly());
  print(page.items.map((t) => `${String(t.id)}\t${String(t.name)}`).join("\n"), page.items);
});
tokens.command("revoke <id>").action(async (id: string) => {
  await client().tokens.revoke(projectOnly(), id);
  print(`revoked ${id}`, { id, revoked: true });
});

const audit = program.command("audit").description("the project's audit log");
audit
  .command("list")
  .option("--limit <n>", "events", Number, 50)
  .action(async (opts: { limit: number }) => {
    const page = await client().audit.list(projectOnly(), { limit: opts.limit });
    const line = (e: Record<string, unknown>) =>
      `${String(e.seq)}\t${String(e.ts)}\t${String(e.action)}\t${String(e.result)}\t${String(e.target ?? "")}`;
    print(page.items.map(line).join("\n"), page.items);
  });
audit.command("verify").action(async () => {
  const result = await client().audit.verify(projectOnly());
  print(
    result.ok ? `ok: ${result.events} events` : `broken at seq ${result.first_bad_seq}`,
    result,
  );
  if (!result.ok) process.exitCode = 2;
});

function projectOnly(): string {
  const project = settings().project;
  if (!project) throw new UsageError("no project: use --project, QALA_PROJECT or `qala init`");
  return project;
}

/** `3600`, `3600s`, `90m`, `12h` or `30d` as seconds. */
function seconds(duration: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(duration.trim());
  if (!m) throw new UsageError(`not a duration: ${duration}`);
  return (
    Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "" | "s" | "m" | "h" | "d"]
  );
}

interface RunOptions {
  preserveEnv?: boolean;
  watch?: boolean;
  interval: number;
  grace: number;
  command?: string;
  fallback?: string | false;
  fallbackOnly?: boolean;
  maxAge: number;
}

async function fetchWithFallback(project: string, env: string, opts: RunOptions) {
  const path = typeof opts.fallback === "string" ? opts.fallback : snapshotPath(project, env);
  const fromSnapshot = (why: string) => {
    const snapshot = loadSnapshot(path, project, env);
    if (!snapshot) throw new UsageError(`${why}, and there is no fallback snapshot`);
    const age = (Date.now() - snapshot.savedAt) / 1000;
    if (age > opts.maxAge) throw new UsageError(`${why}, and the snapshot is older than --max-age`);
    process.stderr.write(
      `qala: ${why}; using the snapshot from ${new Date(snapshot.savedAt).toISOString()}\n`,
    );
    return snapshot.secrets;
  };
  if (opts.fallbackOnly) return fromSnapshot("--fallback-only");
  try {
    const { secrets, skipped } = await client().getEnvironment(project, env);
    for (const key of skipped) {
      process.stderr.write(`qala: ${key} is not set: its current version is revoked\n`);
    }
    if (opts.fallback !== false) saveSnapshot(path, project, env, secrets);
    return secrets;
  } catch (error) {
    const unreachable = error instanceof QalaError && (error.status === 0 || error.status >= 500);
    if (!unreachable || opts.fallback === false) throw error;
    return fromSnapshot(`the server could not be reached (${error.code})`);
  }
}

async function main(argv: string[]) {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 1;
      return;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`qala: ${error.message}\n`);
      process.exitCode = 1;
    } else if (error instanceof QalaError) {
      process.stderr.write(
        `qala: ${error.message} (${error.code}${error.requestId ? `, ${error.requestId}` : ""})\n`,
      );
      process.exitCode = error instanceof AuthError ? 3 : 2;
    } else {
      process.stderr.write(`qala: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  }
}

void main(process.argv);

// qala secrets … and qala export.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { client, print, program, readStdin, scope, UsageError } from "../context.js";

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

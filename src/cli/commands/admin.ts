// qala import, projects, envs, tokens, audit, keys.
import { readFileSync } from "node:fs";
import { formatOf, parseSecretsFile } from "../secrets-file.js";
import { client, print, program, projectOnly, scope, seconds, settings } from "../context.js";

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

const keys = program.command("keys").description("the project's key-encryption keys");
keys.command("list").action(async () => {
  const page = await client().keys.list(projectOnly());
  const line = (k: Record<string, unknown>) =>
    `${String(k.environment)}\tv${String(k.version)}\t${String(k.state)}`;
  print(page.items.map(line).join("\n"), page.items);
});
keys
  .command("rotate")
  .description("rotate the KEK of one environment (--env) or all, and wait for the re-wrap")
  .option("--no-wait", "return once the job has started")
  .action(async (opts: { wait: boolean }) => {
    const project = projectOnly();
    const c = client();
    const { job } = await c.keys.rotate(project, settings().env);
    let state = await c.keys.job(project, job);
    while (opts.wait && state.state === "running") {
      await new Promise((r) => setTimeout(r, 500));
      state = await c.keys.job(project, job);
    }
    print(`${job}: ${state.state} (${state.done}/${state.total} keys re-wrapped)`, state);
  });

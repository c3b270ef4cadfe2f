// qala run: the environment-provider mode.
import { QalaError, createClient } from "../../sdk/index.js";
import { childEnvironment, runChild, watchChild } from "../run.js";
import { loadSnapshot, saveSnapshot, snapshotPath } from "../snapshot.js";
import { client, program, scope, settings, UsageError } from "../context.js";

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

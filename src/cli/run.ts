// `qala run -- cmd`: the environment-provider mode. The child inherits stdio,
// gets the environment's secrets as variables (never overriding PATH, HOME,
// SHELL, USER, PWD or TERM; not overriding inherited ones with
// --preserve-env), receives forwarded signals, and its exit code is ours
// (128 + signal number when it is killed).
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { ENV_VAR_NAME_PATTERN } from "../contract/limits.js";

export const PROTECTED = new Set(["PATH", "HOME", "SHELL", "USER", "PWD", "TERM"]);

/** The child's environment, and the keys left out (with why). */
export function childEnvironment(
  inherited: NodeJS.ProcessEnv,
  secrets: Record<string, string>,
  preserve: boolean,
): { env: NodeJS.ProcessEnv; skipped: string[] } {
  const env = { ...inherited };
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(secrets)) {
    if (!ENV_VAR_NAME_PATTERN.test(key) || value.includes("\0")) {
      skipped.push(`${key} (not a valid environment variable)`);
    } else if (PROTECTED.has(key)) {
      skipped.push(`${key} (never overridden)`);
    } else if (!(preserve && inherited[key] !== undefined)) {
      env[key] = value;
    }
  }
  return { env, skipped };
}

/** Runs the child to completion; resolves to the exit code to leave with. */
export function runChild(
  command: string[],
  env: NodeJS.ProcessEnv,
  useShell: boolean,
): Promise<number> {
  return new Promise((resolve) => {
    const [file, ...args] = useShell ? ["/bin/sh", "-c", command.join(" ")] : command;
    const child = spawn(file!, args, { stdio: "inherit", env, shell: false });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map(
      (s) => [s, forward(s)] as const,
    );
    for (const [signal, handler] of handlers) process.on(signal, handler);
    const done = (code: number) => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(code);
    };
    child.on("error", (error) => {
      process.stderr.write(`qala: cannot start ${file}: ${error.message}\n`);
      done(127);
    });
    child.on("exit", (code, signal) =>
      done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
    );
  });
}

export interface WatchOptions {
  intervalMs: number;
  graceMs: number;
  maxBackoffMs?: number;
}

/**
 * `qala run --watch`: runs the child, polls the environment's ETag, and when
 * it changes restarts the child with the new secrets (SIGTERM, then SIGKILL
 * after the grace period). Polling failures back off exponentially. Resolves
 * with the child's exit code once it exits on its own or qala is signalled.
 */
export function watchChild(
  command: string[],
  useShell: boolean,
  poll: () => Promise<{ etag: string; env: NodeJS.ProcessEnv }>,
  first: { etag: string; env: NodeJS.ProcessEnv },
  options: WatchOptions,
): Promise<number> {
  return new Promise((resolve) => {
    let current = first;
    let child = start(current.env);
    let restarting = false;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    function start(env: NodeJS.ProcessEnv) {
      const [file, ...args] = useShell ? ["/bin/sh", "-c", command.join(" ")] : command;
      const proc = spawn(file!, args, { stdio: "inherit", env, shell: false });
      proc.on("exit", (code, signal) => {
        if (restarting) return;
        finish(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
      return proc;
    }

    function finish(code: number) {
      stopped = true;
      clearTimeout(timer);
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(code);
    }

    async function restart(next: { etag: string; env: NodeJS.ProcessEnv }) {
      restarting = true;
      const old = child;
      const exited = new Promise((r) => old.once("exit", r));
      old.kill("SIGTERM");
      const kill = setTimeout(() => old.kill("SIGKILL"), options.graceMs);
      await exited;
      clearTimeout(kill);
      restarting = false;
      if (stopped) return;
      current = next;
      process.stderr.write("qala: the environment changed; restarted the command\n");
      child = start(current.env);
    }

    async function tick() {
      if (stopped) return;
      let delay = options.intervalMs;
      try {
        const next = await poll();
        failures = 0;
        if (next.etag !== current.etag) await restart(next);
      } catch {
        failures++;
        delay = Math.min(options.maxBackoffMs ?? 60_000, options.intervalMs * 2 ** failures);
      }
      if (!stopped) timer = setTimeout(tick, delay);
    }

    const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map(
      (signal) => [signal, () => child.kill(signal)] as const,
    );
    for (const [signal, handler] of handlers) process.on(signal, handler);
    timer = setTimeout(tick, options.intervalMs);
  });
}

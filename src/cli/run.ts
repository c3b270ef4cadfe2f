// `qala run -- cmd`: the environment-provider mode. The child inherits stdio,
// gets the environment's secrets as variables (never overriding PATH, HOME,
// SHELL, USER, PWD or TERM; not overriding inherited ones with
// --preserve-env), receives forwarded signals, and its exit code is ours
// (128 + signal number when it is killed).
import { spawn } from "node:child_process";
import { constants } from "node:os";

export const PROTECTED = new Set(["PATH", "HOME", "SHELL", "USER", "PWD", "TERM"]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The child's environment, and the keys left out (with why). */
export function childEnvironment(
  inherited: NodeJS.ProcessEnv,
  secrets: Record<string, string>,
  preserve: boolean,
): { env: NodeJS.ProcessEnv; skipped: string[] } {
  const env = { ...inherited };
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(secrets)) {
    if (!ENV_NAME.test(key) || value.includes("\0")) {
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

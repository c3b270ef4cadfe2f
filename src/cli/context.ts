// What every command shares: the program, settings, output, the client, scope.
import { Command } from "commander";
import { createClient, type QalaClient } from "../sdk/index.js";
import { readCredentials, resolveSettings, saveCredentials, type Settings } from "./config.js";

export class UsageError extends Error {}

export const program = new Command("qala")
  .description("Qalá secrets manager")
  .option("--url <url>", "server URL (QALA_URL)")
  .option("--token <token>", "API or access token (QALA_TOKEN)")
  .option("--project <project>", "project slug (QALA_PROJECT)")
  .option("--env <env>", "environment slug (QALA_ENV)")
  .option("--json", "machine-readable output")
  .showHelpAfterError()
  .exitOverride();

export const settings = (): Settings => resolveSettings(program.opts<Settings>());
export const json = () => program.opts<{ json?: boolean }>().json === true;
export const print = (human: string, data: unknown) =>
  process.stdout.write(json() ? `${JSON.stringify(data)}\n` : `${human}\n`);

export function client(): QalaClient {
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

export function scope(): { project: string; env: string } {
  const s = settings();
  if (!s.project || !s.env) {
    throw new UsageError(
      "no project or environment: use --project/--env, QALA_PROJECT/QALA_ENV or `qala init`",
    );
  }
  return { project: s.project, env: s.env };
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function projectOnly(): string {
  const project = settings().project;
  if (!project) throw new UsageError("no project: use --project, QALA_PROJECT or `qala init`");
  return project;
}

/** `3600`, `3600s`, `90m`, `12h` or `30d` as seconds. */
export function seconds(duration: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(duration.trim());
  if (!m) throw new UsageError(`not a duration: ${duration}`);
  return (
    Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "" | "s" | "m" | "h" | "d"]
  );
}

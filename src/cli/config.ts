// Where the CLI's settings come from, highest first: flags, environment
// (QALA_URL, QALA_TOKEN, QALA_PROJECT, QALA_ENV), .qala.json in the working
// directory or a parent (no secrets), then the credentials file (mode 0600).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";

export interface Settings {
  url?: string;
  token?: string;
  project?: string;
  env?: string;
  /** A user session's refresh token (password or SSO login), kept only in the credentials file. */
  refresh_token?: string;
}

export const configDir = () => process.env.QALA_CONFIG_DIR ?? join(homedir(), ".config", "qala");
export const credentialsPath = () => join(configDir(), "credentials.json");

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The nearest .qala.json from `cwd` upwards. */
export function findProjectFile(cwd: string): string | null {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, ".qala.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

const pick = (o: Record<string, unknown>, k: string) =>
  typeof o[k] === "string" ? (o[k] as string) : undefined;

export function resolveSettings(flags: Settings, cwd = process.cwd()): Settings {
  const file = findProjectFile(cwd);
  const project = file ? readJson(file) : {};
  const creds = readJson(credentialsPath());
  const first = (...values: (string | undefined)[]) =>
    values.find((v) => v !== undefined && v !== "");
  return {
    url: first(flags.url, process.env.QALA_URL, pick(project, "url"), pick(creds, "url")),
    token: first(flags.token, process.env.QALA_TOKEN, pick(creds, "token")),
    project: first(
      flags.project,
      process.env.QALA_PROJECT,
      pick(project, "project"),
      pick(creds, "project"),
    ),
    env: first(flags.env, process.env.QALA_ENV, pick(project, "env"), pick(creds, "env")),
  };
}

export const readCredentials = (): Settings => {
  const creds = readJson(credentialsPath());
  return {
    url: pick(creds, "url"),
    token: pick(creds, "token"),
    refresh_token: pick(creds, "refresh_token"),
  };
};

/** Writes the credentials file with mode 0600 (and its folder 0700). */
export function saveCredentials(values: Settings): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const path = credentialsPath();
  writeFileSync(path, JSON.stringify({ ...readJson(path), ...values }, null, 2) + "\n", {
    mode: 0o600,
  });
  chmodSync(path, 0o600);
}

export function forgetCredentials(): void {
  if (existsSync(credentialsPath())) writeFileSync(credentialsPath(), "{}\n", { mode: 0o600 });
}

// Reading a file of secrets for `qala import`: dotenv (the dotenv package's
// parser: quotes, newlines, `export` prefixes, comments), JSON or YAML (a flat
// mapping of strings; anything else is refused rather than guessed at).
import { parse as parseDotenv } from "dotenv";
import { parse as parseYaml } from "yaml";

export function formatOf(file: string): string {
  if (/\.json$/i.test(file)) return "json";
  if (/\.ya?ml$/i.test(file)) return "yaml";
  return "dotenv";
}

export function parseSecretsFile(text: string, format: string): Record<string, string> {
  if (format === "dotenv") return parseDotenv(text);
  const data: unknown =
    format === "json" ? JSON.parse(text) : format === "yaml" ? parseYaml(text) : undefined;
  if (data === undefined) throw new Error(`unknown format ${format}: use dotenv, json or yaml`);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error("the file must hold a flat mapping of keys to values");
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== "string") throw new Error(`the value of ${key} is not a string`);
    out[key] = value;
  }
  return out;
}

// Which secrets the Action exports, and under which names: the `secrets`
// input, one `KEY` or `KEY | ENV_NAME` per line (empty: every key). Pure, so
// it is tested without a runner.
import { ENV_VAR_NAME_PATTERN } from "../contract/limits.js";

export interface Selected {
  key: string;
  name: string;
}

export class SelectionError extends Error {
  override readonly name = "SelectionError";
}

/** Parses the `secrets` input; `null` means every key of the environment. */
export function parseSelection(input: string): Selected[] | null {
  const lines = input
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  if (!lines.length) return null;
  const seen = new Map<string, string>();
  return lines.map((line, index) => {
    const parts = line.split("|").map((part) => part.trim());
    const [key, name = key] = parts;
    if (parts.length > 2 || !key || !name) {
      throw new SelectionError(
        `secrets line ${index + 1} is not "KEY" or "KEY | ENV_NAME": ${JSON.stringify(line)}`,
      );
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new SelectionError(`${name} is exported twice (from ${earlier} and ${key})`);
    }
    seen.set(name, key);
    return { key, name };
  });
}

/**
 * The secrets to export, in order: the selection's keys (each must exist and
 * be readable), or every key. Names must be valid environment variable names.
 * Errors name keys, never values.
 */
export function select(
  secrets: Record<string, string>,
  selection: Selected[] | null,
  skipped: readonly string[],
): Array<Selected & { value: string }> {
  const chosen = selection ?? Object.keys(secrets).map((key) => ({ key, name: key }));
  const missing = chosen.filter((s) => !(s.key in secrets));
  if (missing.length) {
    const revoked = missing.filter((s) => skipped.includes(s.key)).map((s) => s.key);
    const absent = missing.filter((s) => !skipped.includes(s.key)).map((s) => s.key);
    const reasons = [
      absent.length ? `not in the environment: ${absent.join(", ")}` : "",
      revoked.length ? `current version revoked: ${revoked.join(", ")}` : "",
    ];
    throw new SelectionError(`cannot export ${reasons.filter(Boolean).join("; ")}`);
  }
  const invalid = chosen.filter((s) => !ENV_VAR_NAME_PATTERN.test(s.name)).map((s) => s.name);
  if (invalid.length) {
    throw new SelectionError(
      `not valid environment variable names: ${invalid.join(", ")} ` +
        '(letters, digits and "_", not starting with a digit); map them with "KEY | ENV_NAME" in `secrets`',
    );
  }
  return chosen.map((s) => ({ ...s, value: secrets[s.key]! }));
}

/** The strings to mask for one value: the whole value and each of its lines. */
export function masksOf(value: string): string[] {
  const lines = value.split(/\r?\n/).filter((line) => line.trim() !== "");
  return [...new Set([value.trim() === "" ? [] : [value], lines].flat())];
}

// Renders an environment as dotenv, JSON, YAML or shell. Each format reads back
// exactly (tests parse the output with the format's own parser); a value a
// format cannot carry is left out and named, never mangled.
import { stringify as yamlStringify } from "yaml";
import { ENV_VAR_NAME_PATTERN, type ExportFormat } from "../../contract/index.js";

export interface Rendered {
  body: string;
  contentType: string;
  skipped: string[];
}

/**
 * dotenv (the `dotenv` package's parser) has no escapes except `\n` and `\r`
 * inside double quotes, and its quoted forms treat `\<quote>` as part of the
 * value, so a value ending in `\` can swallow the lines after it. A quote
 * style is chosen per value: double quotes when the value holds no `"` and no
 * literal `\n`/`\r` sequence (newlines and carriage returns become escapes);
 * else single quotes or backticks when the value holds neither that quote nor a
 * carriage return; a value ending in `\` only unquoted, when that reads back.
 */
export function dotenvQuote(value: string): string | null {
  if (value.endsWith("\\")) return UNQUOTED_SAFE.test(value) ? value : null;
  if (!value.includes('"') && !/\\[nr]/.test(value)) {
    return `"${value.replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`;
  }
  if (value.includes("\r")) return null;
  for (const quote of ["'", "`"]) {
    if (!value.includes(quote)) return `${quote}${value}${quote}`;
  }
  return null;
}

/** An unquoted value: no comment, no line break, no surrounding space, no opening quote. */
const UNQUOTED_SAFE = /^[^\s#'"`][^#\r\n\u2028\u2029]*(?<!\s)$/;

/** POSIX single quotes: everything literal; a `'` becomes `'\''`. */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export function renderEnvironment(
  format: ExportFormat,
  values: ReadonlyMap<string, string>,
): Rendered {
  const skipped: string[] = [];
  switch (format) {
    case "json":
      return {
        body: JSON.stringify(Object.fromEntries(values), null, 2) + "\n",
        contentType: "application/json; charset=utf-8",
        skipped,
      };
    case "yaml":
      return {
        body:
          values.size === 0 ? "{}\n" : yamlStringify(Object.fromEntries(values), { lineWidth: 0 }),
        contentType: "application/yaml; charset=utf-8",
        skipped,
      };
    case "dotenv": {
      const lines: string[] = [];
      for (const [key, value] of values) {
        const quoted = value.includes("\0") ? null : dotenvQuote(value);
        if (quoted === null) skipped.push(key);
        else lines.push(`${key}=${quoted}`);
      }
      return { body: joinLines(lines), contentType: "text/plain; charset=utf-8", skipped };
    }
    case "shell": {
      const lines: string[] = [];
      for (const [key, value] of values) {
        if (!ENV_VAR_NAME_PATTERN.test(key) || value.includes("\0")) skipped.push(key);
        else lines.push(`export ${key}=${shellQuote(value)}`);
      }
      return { body: joinLines(lines), contentType: "text/x-shellscript; charset=utf-8", skipped };
    }
  }
}

const joinLines = (lines: string[]) => (lines.length ? lines.join("\n") + "\n" : "");

import { parse as parseDotenv } from "dotenv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { dotenvQuote, renderEnvironment } from "../../../src/worker/services/export-format.js";

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,20}$/);
const nasty = fc.constantFrom(
  "",
  " ",
  "  padded  ",
  'say "hi"',
  "it's",
  "back`tick",
  "all ' \" ` three",
  "line1\nline2",
  "crlf\r\nend",
  "literal \\n not a newline",
  "ends with backslash\\",
  "$HOME and ${PATH} and $(rm -rf /)",
  "a=b=c",
  "# not a comment",
  "value # with hash",
  "'starts quoted'",
  '"double"',
  "\ttab",
  "trailing newline\n",
  "emoji 🔐 and ünïcödé",
  "true",
  "null",
  "0123",
  "- dash",
  "key: value",
);
const value = fc.oneof(
  nasty,
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ maxLength: 40 }),
);
const environment = fc.dictionary(key, value, { maxKeys: 12 });

const asMap = (o: Record<string, string>) => new Map(Object.entries(o));

describe("export formats read back exactly", () => {
  it("json", () => {
    fc.assert(
      fc.property(environment, (env) => {
        expect(JSON.parse(renderEnvironment("json", asMap(env)).body)).toEqual(env);
      }),
    );
  });

  it("yaml", () => {
    fc.assert(
      fc.property(environment, (env) => {
        expect(parseYaml(renderEnvironment("yaml", asMap(env)).body)).toEqual(env);
      }),
    );
  });

  it("dotenv: every value the dotenv package can carry, and names the rest", () => {
    fc.assert(
      fc.property(environment, (env) => {
        const rendered = renderEnvironment("dotenv", asMap(env));
        const parsed = parseDotenv(rendered.body);
        const expected = { ...env };
        for (const skipped of rendered.skipped) delete expected[skipped];
        expect(parsed).toEqual(expected);
        expect(rendered.skipped.length).toBeLessThanOrEqual(Object.keys(env).length);
      }),
      { numRuns: 1000 },
    );
  });

  it("dotenv: a value ending in a backslash does not swallow the next line", () => {
    const env = { A: "ends \\", B: "#", C: " leading space\\" };
    const rendered = renderEnvironment("dotenv", asMap(env));
    expect(rendered.skipped).toEqual(["C"]);
    expect(parseDotenv(rendered.body)).toEqual({ A: "ends \\", B: "#" });
  });

  it('dotenv: writes KEY="value" with escaped newlines when it can', () => {
    expect(dotenvQuote("plain")).toBe('"plain"');
    expect(dotenvQuote("a\nb")).toBe('"a\\nb"');
    expect(dotenvQuote('say "hi"')).toBe(`'say "hi"'`);
    expect(dotenvQuote("all ' \" ` three")).toBeNull();
  });

  it("shell: quotes every value and leaves out keys that are not shell names", () => {
    const rendered = renderEnvironment(
      "shell",
      asMap({ GOOD: "it's $HOME", "dotted.key": "x", "dash-key": "y" }),
    );
    expect(rendered.body).toBe("export GOOD='it'\\''s $HOME'\n");
    expect(rendered.skipped).toEqual(["dotted.key", "dash-key"]);
  });
});

// The shell export is `eval`-safe: a real POSIX shell reads every value back exactly.
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderEnvironment } from "../../../src/worker/services/export-format.js";

const name = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,12}$/).map((n) => `QALA_T_${n}`);
const value = fc.oneof(
  fc.constantFrom("it's", "$HOME", "`id`", "$(id)", "a\nb", "\\", "'", "''", "!", "*", "~"),
  fc.string({ unit: "grapheme", maxLength: 30 }),
);

describe("shell export", () => {
  it("evaluates in sh to exactly the stored values, with nothing executed", () => {
    fc.assert(
      fc.property(fc.dictionary(name, value, { minKeys: 1, maxKeys: 8 }), (env) => {
        const { body, skipped } = renderEnvironment("shell", new Map(Object.entries(env)));
        expect(skipped).toEqual([]);
        const script = `${body}\nnode -e 'process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("QALA_T_")))))'`;
        const out = execFileSync("sh", ["-c", script], { env: { PATH: process.env.PATH } });
        expect(JSON.parse(out.toString())).toEqual(env);
      }),
      { numRuns: 40 },
    );
  });
});

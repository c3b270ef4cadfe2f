// Test-only bindings never reach a deployment.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("deployment configuration", () => {
  it("defines no test hooks: fault injection and clock moves exist only in vitest.config.ts", () => {
    const toml = readFileSync(new URL("../../../wrangler.toml", import.meta.url), "utf8");
    expect(toml).not.toMatch(/QALA_TEST_HOOKS|TEST_MIGRATIONS|TEST_ISSUER_URL/);
    const vitest = readFileSync(new URL("../../../vitest.config.ts", import.meta.url), "utf8");
    expect(vitest).toMatch(/QALA_TEST_HOOKS: "1"/);
  });
});

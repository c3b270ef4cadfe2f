import { describe, expect, it } from "vitest";
import { CHARSETS } from "../../../src/contract/index.js";
import { CHARSET_ALPHABETS, generateValue } from "../../../src/worker/crypto/generate.js";

describe("secure generation", () => {
  it("gives the requested length from the requested charset", () => {
    for (const charset of CHARSETS) {
      for (const length of [1, 7, 32, 4096]) {
        const value = generateValue({ charset, length });
        expect(value).toHaveLength(length);
        for (const ch of value) expect(CHARSET_ALPHABETS[charset]).toContain(ch);
      }
    }
  });

  it("has the documented alphabets", () => {
    expect(CHARSET_ALPHABETS.alphanumeric).toHaveLength(62);
    expect(CHARSET_ALPHABETS.base64url).toHaveLength(64);
    expect(CHARSET_ALPHABETS.hex).toBe("0123456789abcdef");
    expect(CHARSET_ALPHABETS.ascii).toHaveLength(94);
    expect(CHARSET_ALPHABETS.ascii[0]).toBe("!");
    expect(CHARSET_ALPHABETS.ascii.at(-1)).toBe("~");
  });

  // 62 and 94 do not divide 256: a modulo without rejection would make the
  // first 256 % n characters about 1/4 (62) or 1/2 (94) more likely. A
  // chi-square test over 200,000 draws sees a bias far smaller than that.
  it.each(["alphanumeric", "ascii"] as const)("draws every %s character uniformly", (charset) => {
    const alphabet = CHARSET_ALPHABETS[charset];
    const draws = 200_000;
    const counts = new Map<string, number>();
    const value = generateValue({ charset, length: draws });
    for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    const expected = draws / alphabet.length;
    let chi2 = 0;
    for (const ch of alphabet) chi2 += ((counts.get(ch) ?? 0) - expected) ** 2 / expected;
    // Degrees of freedom n-1 (61 or 93); the 99.99th percentile is below 2n. A
    // modulo bias of this size would push chi² into the thousands.
    expect(chi2).toBeLessThan(2 * alphabet.length);
    const low = alphabet.slice(0, 256 % alphabet.length);
    const lowMean = [...low].reduce((s, ch) => s + (counts.get(ch) ?? 0), 0) / low.length;
    expect(Math.abs(lowMean - expected) / expected).toBeLessThan(0.05);
  });
});

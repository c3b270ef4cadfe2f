// Random secret values from a charset, by rejection sampling over
// crypto.getRandomValues: bytes at or above the largest multiple of the charset
// size are thrown away, so every character is exactly equally likely.
import type { Charset, GenerateSpec } from "../../contract/index.js";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export const CHARSET_ALPHABETS: Record<Charset, string> = {
  alphanumeric: ALPHANUMERIC,
  base64url: `${ALPHANUMERIC}-_`,
  hex: "0123456789abcdef",
  ascii: Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join(""),
};

/** getRandomValues fills at most 64 KiB per call. */
const MAX_RANDOM_BYTES = 65_536;

export function generateValue(spec: GenerateSpec): string {
  const alphabet = CHARSET_ALPHABETS[spec.charset];
  const limit = 256 - (256 % alphabet.length);
  const out: string[] = [];
  while (out.length < spec.length) {
    const want = Math.min(MAX_RANDOM_BYTES, Math.max(16, (spec.length - out.length) * 2));
    for (const byte of crypto.getRandomValues(new Uint8Array(want))) {
      if (byte >= limit) continue;
      out.push(alphabet[byte % alphabet.length]!);
      if (out.length === spec.length) break;
    }
  }
  return out.join("");
}

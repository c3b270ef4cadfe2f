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

export function generateValue(spec: GenerateSpec): string {
  const alphabet = CHARSET_ALPHABETS[spec.charset];
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < spec.length) {
    const batch = crypto.getRandomValues(
      new Uint8Array(Math.max(16, (spec.length - out.length) * 2)),
    );
    for (const byte of batch) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === spec.length) break;
    }
  }
  return out;
}

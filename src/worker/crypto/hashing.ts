// Hashing and comparison for secrets we only ever store hashed (API tokens,
// the bootstrap token). Comparisons take the same time whatever the input.
import { createHash } from "node:crypto";
import { utf8 } from "./encoding.js";

/** Hex SHA-256 of the UTF-8 text: synchronous (node:crypto), as every token check runs it. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Constant-time equality of two strings. Inputs are hashed first so that the
 * comparison runs over equal lengths and leaks neither content nor length.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", utf8(a)),
    crypto.subtle.digest("SHA-256", utf8(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

/**
 * Constant-time equality of two hex SHA-256 digests (equal length by
 * construction), without hashing them again: the token hot path.
 */
export function digestsEqual(a: string, b: string): boolean {
  const x = utf8(a);
  const y = utf8(b);
  if (x.length !== y.length) return false;
  return crypto.subtle.timingSafeEqual(x, y);
}

// Password hashing: HMAC-SHA256 with the server's pepper, then PBKDF2-SHA256 at
// the runtime's maximum iteration count (workerd refuses more than 100,000),
// with a per-user salt and the parameters stored with the hash so they can be
// raised later. Without the pepper (wrapped by the master key, never in D1 in
// the clear) a stolen hash cannot even be attacked offline.
import { fromBase64, randomBytes, toBase64, utf8 } from "./encoding.js";
import { constantTimeEqual } from "./hashing.js";

export const PBKDF2_ITERATIONS = 100_000;

async function derive(
  password: string,
  pepper: CryptoKey,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
) {
  const peppered = await crypto.subtle.sign("HMAC", pepper, utf8(password.normalize("NFKC")));
  const material = await crypto.subtle.importKey("raw", peppered, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    256,
  );
  return toBase64(new Uint8Array(bits));
}

/** Returns `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`. */
export async function hashPassword(password: string, pepper: CryptoKey): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, pepper, salt, PBKDF2_ITERATIONS);
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${toBase64(salt)}$${hash}`;
}

/** A well-formed hash of nothing: verifying against it costs what a real check costs. */
export const DUMMY_PASSWORD_HASH = `pbkdf2-sha256$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export async function verifyPassword(
  password: string,
  stored: string,
  pepper: CryptoKey,
): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split("$");
  if (scheme !== "pbkdf2-sha256" || !iterations || !salt || !hash) return false;
  const rounds = Number(iterations);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > PBKDF2_ITERATIONS) return false;
  const candidate = await derive(password, pepper, fromBase64(salt), rounds);
  return constantTimeEqual(candidate, hash);
}

// AES-256-GCM with strict parsing: a 12-byte IV and a 16-byte tag, nothing else.
// WebCrypto accepts any IV length and tags of 32–128 bits; we refuse both before
// calling it, so a truncated or re-shaped ciphertext is an integrity failure.
import { randomBytes, utf8 } from "./encoding.js";

export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** Every sealed blob starts with this format tag, so the scheme can change without a flag day. */
export const FORMAT_V1 = utf8("v1");

export class IntegrityError extends Error {
  override readonly name = "IntegrityError";
}

export function importAesKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  if (raw.length !== 32) throw new Error("AES-256 keys are 32 bytes");
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

function withPrefix(body: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(FORMAT_V1.length + body.length);
  out.set(FORMAT_V1, 0);
  out.set(body, FORMAT_V1.length);
  return out;
}

function stripPrefix(blob: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  if (blob.length < FORMAT_V1.length || blob[0] !== FORMAT_V1[0] || blob[1] !== FORMAT_V1[1]) {
    throw new IntegrityError("unknown ciphertext format");
  }
  return blob.subarray(FORMAT_V1.length);
}

async function decrypt(
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  body: Uint8Array<ArrayBuffer>,
  aad: string | Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  if (iv.length !== IV_BYTES) throw new IntegrityError("IV must be 12 bytes");
  if (body.length < TAG_BYTES) throw new IntegrityError("ciphertext shorter than its tag");
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv,
        additionalData: typeof aad === "string" ? utf8(aad) : aad,
        tagLength: TAG_BYTES * 8,
      },
      key,
      body,
    );
    return new Uint8Array(plain);
  } catch {
    throw new IntegrityError("authentication failed");
  }
}

async function encrypt(
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  plaintext: Uint8Array<ArrayBuffer>,
  aad: string | Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  const ct = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv,
      additionalData: typeof aad === "string" ? utf8(aad) : aad,
      tagLength: TAG_BYTES * 8,
    },
    key,
    plaintext,
  );
  return new Uint8Array(ct);
}

/** Encrypts under a fresh random IV; the IV is returned apart (stored in its own column). */
export async function sealDetached(
  key: CryptoKey,
  plaintext: Uint8Array<ArrayBuffer>,
  aad: string | Uint8Array<ArrayBuffer>,
): Promise<{ iv: Uint8Array<ArrayBuffer>; ciphertext: Uint8Array<ArrayBuffer> }> {
  const iv = randomBytes(IV_BYTES);
  return { iv, ciphertext: withPrefix(await encrypt(key, iv, plaintext, aad)) };
}

export async function openDetached(
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  ciphertext: Uint8Array<ArrayBuffer>,
  aad: string | Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  return decrypt(key, iv, stripPrefix(ciphertext), aad);
}

/** Encrypts under a fresh random IV into one blob: `v1 ‖ iv ‖ ciphertext ‖ tag`. */
export async function seal(
  key: CryptoKey,
  plaintext: Uint8Array<ArrayBuffer>,
  aad: string | Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const iv = randomBytes(IV_BYTES);
  const ct = await encrypt(key, iv, plaintext, aad);
  const body = new Uint8Array(IV_BYTES + ct.length);
  body.set(iv, 0);
  body.set(ct, IV_BYTES);
  return withPrefix(body);
}

export async function open(
  key: CryptoKey,
  sealed: Uint8Array<ArrayBuffer>,
  aad: string | Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const body = stripPrefix(sealed);
  if (body.length < IV_BYTES + TAG_BYTES) throw new IntegrityError("sealed blob too short");
  return decrypt(key, body.subarray(0, IV_BYTES), body.subarray(IV_BYTES), aad);
}

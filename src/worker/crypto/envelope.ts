// Envelope encryption: master key → KEK (one per environment, versioned) → DEK
// (fresh per secret version). Every layer is AES-256-GCM with a fresh random IV
// and an AAD that names exactly what the ciphertext belongs to, so a blob copied
// onto another row, secret, version or environment fails to decrypt.
import { IntegrityError, importAesKey, open, openDetached, seal, sealDetached } from "./aead.js";
import { fromUtf8, randomBytes, toBase64, utf8 } from "./encoding.js";
import { decodeStored, preparedValue } from "./dek-cache.js";
import type { MasterKeyring } from "./master-keys.js";

export interface ValueContext {
  projectId: string;
  environmentId: string;
  secretId: string;
  key: string;
  version: number;
}

export interface SealedValue {
  ciphertext: string;
  iv: string;
  wrappedDek: string;
}

export interface WrappedKek {
  environmentId: string;
  version: number;
  wrappedKey: string;
  wrappedBy: string;
}

export const kekAad = (environmentId: string, version: number) =>
  `qala:kek:${environmentId}:${version}`;

export const valueAad = (c: ValueContext) =>
  `qala:v1:${c.projectId}:${c.environmentId}:${c.secretId}:${c.key}:${c.version}`;

/** Makes a new KEK and wraps it with the active master key. */
export async function createKek(
  ring: MasterKeyring,
  environmentId: string,
  version: number,
): Promise<{ wrapped: WrappedKek; key: CryptoKey }> {
  const raw = randomBytes(32);
  const wrapped = await ring.wrap(raw, kekAad(environmentId, version));
  const key = await importAesKey(raw);
  raw.fill(0);
  return { wrapped: { environmentId, version, ...wrapped }, key };
}

/** Unwraps a KEK into a non-extractable key, with whichever master key wrapped it. */
export async function unwrapKek(ring: MasterKeyring, kek: WrappedKek): Promise<CryptoKey> {
  const raw = await ring.unwrap(kek, kekAad(kek.environmentId, kek.version));
  try {
    return await importAesKey(raw);
  } finally {
    raw.fill(0);
  }
}

/** Encrypts one secret version under a fresh DEK, wrapped by the environment's KEK. */
export async function encryptValue(
  kek: CryptoKey,
  context: ValueContext,
  plaintext: string,
): Promise<SealedValue> {
  const aad = valueAad(context);
  const rawDek = randomBytes(32);
  const dek = await importAesKey(rawDek);
  const wrappedDek = await seal(kek, rawDek, aad);
  rawDek.fill(0);
  const { iv, ciphertext } = await sealDetached(dek, utf8(plaintext), aad);
  return { ciphertext: toBase64(ciphertext), iv: toBase64(iv), wrappedDek: toBase64(wrappedDek) };
}

export async function decryptValue(
  kek: CryptoKey,
  context: ValueContext,
  sealed: SealedValue,
): Promise<string> {
  const value = preparedValue(valueAad(context), sealed, async (aad) => {
    const rawDek = await open(kek, decodeStored(sealed.wrappedDek), aad);
    try {
      return await importAesKey(rawDek);
    } finally {
      rawDek.fill(0);
    }
  });
  const plain = await openDetached(await value.dek, value.iv, value.ciphertext, value.aad);
  try {
    return fromUtf8(plain);
  } catch {
    throw new IntegrityError("plaintext is not UTF-8");
  }
}

/**
 * Re-wraps one version's DEK from the old KEK to the new one (same AAD). The
 * value's ciphertext is untouched: KEK rotation rewrites wrapped DEKs only.
 */
export async function rewrapDek(
  from: CryptoKey,
  to: CryptoKey,
  context: ValueContext,
  wrappedDek: string,
): Promise<string> {
  const aad = valueAad(context);
  const raw = await open(from, decodeStored(wrappedDek), aad);
  try {
    return toBase64(await seal(to, raw, aad));
  } finally {
    raw.fill(0);
  }
}

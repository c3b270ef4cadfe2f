// Encryption as a service with Vault's Transit shapes: named AES-256-GCM keys
// per project, versioned (rotation keeps older versions for decryption),
// stored wrapped by the master key. Ciphertexts are `vault:v<n>:<base64(iv ‖
// ciphertext ‖ tag)>`; `associated_data` (or `context`) is the AAD.
import { importAesKey, IV_BYTES, TAG_BYTES } from "../crypto/aead.js";
import { fromBase64, randomBytes, toBase64 } from "../crypto/encoding.js";
import { newId } from "../crypto/ids.js";
import { loadMasterKeyring } from "../key-providers/index.js";
import { nowIso, type Db } from "../db/client.js";
import { insertKey, setKeyState, transitKeyVersions, type KeyRow } from "../db/keys.js";
import { AppError } from "../errors.js";
import type { ChangeDeps } from "./write-deps.js";

const scopeOf = (projectId: string, name: string) => `${projectId}:${name}`;
export const transitAad = (scopeId: string, version: number) =>
  `qala:transit:${scopeId}:${version}`;

export const TRANSIT_KEY_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export async function keyVersions(db: Db, projectId: string, name: string): Promise<KeyRow[]> {
  return transitKeyVersions(db, scopeOf(projectId, name));
}

/** A new version's row (values only: a drizzle statement is a thenable and must not be awaited). */
async function newVersion(deps: ChangeDeps, scopeId: string, version: number): Promise<KeyRow> {
  const ring = await loadMasterKeyring(deps.masterKey);
  const raw = randomBytes(32);
  try {
    const wrapped = await ring.wrap(raw, transitAad(scopeId, version));
    return {
      id: newId("key"),
      scope: "transit",
      scopeId,
      version,
      ...wrapped,
      state: "active",
      publicKey: null,
      createdAt: nowIso(deps.now()),
    };
  } finally {
    raw.fill(0);
  }
}

/** Creates the key (version 1); a key that exists is left as it is, as Vault does. */
export async function createTransitKey(
  deps: ChangeDeps,
  input: { projectId: string; name: string },
): Promise<{ created: boolean }> {
  const scopeId = scopeOf(input.projectId, input.name);
  if ((await transitKeyVersions(deps.db, scopeId)).length) return { created: false };
  const row = await newVersion(deps, scopeId, 1);
  await deps.land([insertKey(deps.db, row)]);
  return { created: true };
}

/** A new version encrypts from now on; older versions keep decrypting. */
export async function rotateTransitKey(
  deps: ChangeDeps,
  input: { projectId: string; name: string },
): Promise<{ version: number }> {
  const scopeId = scopeOf(input.projectId, input.name);
  const [latest] = await transitKeyVersions(deps.db, scopeId);
  if (!latest) throw new AppError("not_found", "no such transit key");
  const version = latest.version + 1;
  const row = await newVersion(deps, scopeId, version);
  await deps.land([setKeyState(deps.db, latest.id, "retired"), insertKey(deps.db, row)]);
  return { version };
}

const unwrapped = new Map<string, Promise<CryptoKey>>();

function keyOf(masterKey: string, row: KeyRow): Promise<CryptoKey> {
  let key = unwrapped.get(row.id);
  if (!key) {
    if (unwrapped.size >= 256) unwrapped.delete(unwrapped.keys().next().value!);
    key = (async () => {
      const raw = await (
        await loadMasterKeyring(masterKey)
      ).unwrap(row, transitAad(row.scopeId, row.version));
      try {
        return await importAesKey(raw);
      } finally {
        raw.fill(0);
      }
    })();
    key.catch(() => unwrapped.delete(row.id));
    unwrapped.set(row.id, key);
  }
  return key;
}

/** Vault answers malformed input with 400 and `{"errors": [...]}`. */
const invalid = (message: string) => new AppError("bad_request", message);

function decodeBase64(text: string | undefined, what: string): Uint8Array<ArrayBuffer> | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    return fromBase64(text);
  } catch {
    throw invalid(`${what} is not base64`);
  }
}

export async function encrypt(
  deps: { db: Db; masterKey: string },
  input: { projectId: string; name: string; plaintext: string; aad?: string },
): Promise<{ ciphertext: string; key_version: number }> {
  const [latest] = await keyVersions(deps.db, input.projectId, input.name);
  if (!latest) throw invalid("encryption key not found");
  const plaintext = decodeBase64(input.plaintext, "plaintext") ?? new Uint8Array(0);
  const aad = decodeBase64(input.aad, "associated_data");
  const iv = randomBytes(IV_BYTES);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, tagLength: TAG_BYTES * 8, ...(aad ? { additionalData: aad } : {}) },
      await keyOf(deps.masterKey, latest),
      plaintext,
    ),
  );
  const blob = new Uint8Array(IV_BYTES + sealed.length);
  blob.set(iv, 0);
  blob.set(sealed, IV_BYTES);
  return { ciphertext: `vault:v${latest.version}:${toBase64(blob)}`, key_version: latest.version };
}

export async function decrypt(
  deps: { db: Db; masterKey: string },
  input: { projectId: string; name: string; ciphertext: string; aad?: string },
): Promise<{ plaintext: string }> {
  const match = /^vault:v(\d{1,9}):([A-Za-z0-9+/=]+)$/.exec(input.ciphertext);
  if (!match) throw invalid("invalid ciphertext: no prefix");
  const versions = await keyVersions(deps.db, input.projectId, input.name);
  if (!versions.length) throw invalid("encryption key not found");
  const row = versions.find((v) => v.version === Number(match[1]));
  if (!row || row.state === "destroyed") throw invalid("invalid key version");
  const blob = decodeBase64(match[2], "ciphertext")!;
  if (blob.length < IV_BYTES + TAG_BYTES) throw invalid("invalid ciphertext: too short");
  const aad = decodeBase64(input.aad, "associated_data");
  // The key first, outside the try: a key provider failure is a 503, not a bad ciphertext.
  const key = await keyOf(deps.masterKey, row);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: blob.subarray(0, IV_BYTES),
        tagLength: TAG_BYTES * 8,
        ...(aad ? { additionalData: aad } : {}),
      },
      key,
      blob.subarray(IV_BYTES),
    );
  } catch {
    // WebCrypto's OperationError: wrong key version, AAD or a changed byte.
    throw invalid("cipher: message authentication failed");
  }
  return { plaintext: toBase64(new Uint8Array(plain)) };
}

/** Vault's key description (the fields its clients read). */
export function describeKey(name: string, versions: KeyRow[]) {
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  return {
    name,
    type: "aes256-gcm96",
    latest_version: sorted.at(-1)?.version ?? 0,
    min_decryption_version: 1,
    min_encryption_version: 0,
    deletion_allowed: false,
    derived: false,
    exportable: false,
    supports_encryption: true,
    supports_decryption: true,
    supports_derivation: false,
    supports_signing: false,
    keys: Object.fromEntries(
      sorted.map((v) => [String(v.version), Math.floor(Date.parse(v.createdAt) / 1000)]),
    ),
  };
}

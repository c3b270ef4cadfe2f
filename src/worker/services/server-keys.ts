// The pepper and the access-token signing keys: created on first use, stored
// wrapped by the master key, unwrapped once per isolate.
import { isUniqueViolation, nowIso, runBatch, type Db } from "../db/client.js";
import { findKey, insertKey, latestInstanceKey, setKeyState, type KeyRow } from "../db/keys.js";
import { newId } from "../crypto/ids.js";
import {
  importPayloadKey,
  importPepper,
  importSigningKey,
  importVerifyKey,
  newPayloadKeyPair,
  newPepper,
  newSigningKeyPair,
  openInstanceSecret,
  sealInstanceSecret,
} from "../crypto/instance-keys.js";
import { loadMasterKeyring } from "../key-providers/index.js";

const wrapped = (row: KeyRow) => ({
  name: row.scopeId,
  version: row.version,
  wrappedKey: row.wrappedKey,
  wrappedBy: row.wrappedBy,
});

/** Returns the newest row of `name`, creating version 1 if there is none (safe under races). */
async function ensureInstanceKey(
  db: Db,
  masterKey: string,
  name: string,
  make: () => Promise<{ secret: Uint8Array<ArrayBuffer>; publicKey?: string }>,
): Promise<KeyRow> {
  const existing = await latestInstanceKey(db, name);
  if (existing) return existing;
  const ring = await loadMasterKeyring(masterKey);
  const { secret, publicKey } = await make();
  const sealed = await sealInstanceSecret(ring, name, 1, secret);
  const row: KeyRow = {
    id: newId("key"),
    scope: "instance",
    scopeId: name,
    version: 1,
    wrappedKey: sealed.wrappedKey,
    wrappedBy: sealed.wrappedBy,
    state: "active",
    publicKey: publicKey ?? null,
    createdAt: nowIso(),
  };
  try {
    await insertKey(db, row);
    return row;
  } catch (error) {
    // Another isolate created it first: use theirs.
    if (isUniqueViolation(error)) return (await latestInstanceKey(db, name))!;
    throw error;
  }
}

let pepper: Promise<CryptoKey> | undefined;

export function getPepper(db: Db, masterKey: string): Promise<CryptoKey> {
  pepper ??= (async () => {
    const row = await ensureInstanceKey(db, masterKey, "pepper", async () => ({
      secret: newPepper(),
    }));
    const raw = await openInstanceSecret(await loadMasterKeyring(masterKey), wrapped(row));
    return importPepper(raw);
  })();
  pepper.catch(() => (pepper = undefined));
  return pepper;
}

const makeSigningKey = async () => {
  const { pkcs8, publicJwk } = await newSigningKeyPair();
  return { secret: pkcs8, publicKey: JSON.stringify(publicJwk) };
};

const signing = new Map<string, Promise<CryptoKey>>();

/** The active signing key and its `kid` (the key row's id). */
export async function getSigningKey(
  db: Db,
  masterKey: string,
): Promise<{ kid: string; key: CryptoKey }> {
  const row = await ensureInstanceKey(db, masterKey, "jwt", makeSigningKey);
  let key = signing.get(row.id);
  if (!key) {
    key = (async () =>
      importSigningKey(
        await openInstanceSecret(await loadMasterKeyring(masterKey), wrapped(row)),
      ))();
    key.catch(() => signing.delete(row.id));
    signing.set(row.id, key);
  }
  return { kid: row.id, key: await key };
}

const verifying = new Map<string, Promise<CryptoKey | null>>();

/** The public key of `kid`, or null when it is unknown or destroyed. */
export function getVerifyKey(db: Db, kid: string): Promise<CryptoKey | null> {
  let key = verifying.get(kid);
  if (!key) {
    key = (async () => {
      const row = await findKey(db, kid);
      if (!row || row.scope !== "instance" || row.scopeId !== "jwt" || !row.publicKey) return null;
      if (row.state === "destroyed") return null;
      return importVerifyKey(JSON.parse(row.publicKey) as JsonWebKey);
    })();
    key.then((k) => k ?? verifying.delete(kid)).catch(() => verifying.delete(kid));
    verifying.set(kid, key);
  }
  return key;
}

/** Makes a new signing key active; older ones keep verifying until they expire out. */
export async function rotateSigningKey(db: Db, masterKey: string): Promise<{ kid: string }> {
  const current = await ensureInstanceKey(db, masterKey, "jwt", makeSigningKey);
  const ring = await loadMasterKeyring(masterKey);
  const { secret, publicKey } = await makeSigningKey();
  const version = current.version + 1;
  const sealed = await sealInstanceSecret(ring, "jwt", version, secret);
  const id = newId("key");
  await runBatch(db, [
    setKeyState(db, current.id, "retired"),
    insertKey(db, {
      id,
      scope: "instance",
      scopeId: "jwt",
      version,
      wrappedKey: sealed.wrappedKey,
      wrappedBy: sealed.wrappedBy,
      state: "active",
      publicKey,
      createdAt: nowIso(),
    }),
  ]);
  return { kid: id };
}

const secrets = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

/** A random 256-bit server secret for `name` (e.g. the SSO cookie key), wrapped by the master key. */
export function getInstanceSecret(
  db: Db,
  masterKey: string,
  name: string,
): Promise<Uint8Array<ArrayBuffer>> {
  let secret = secrets.get(name);
  if (!secret) {
    secret = (async () => {
      const row = await ensureInstanceKey(db, masterKey, name, async () => ({
        secret: newPepper(),
      }));
      return openInstanceSecret(await loadMasterKeyring(masterKey), wrapped(row));
    })();
    secret.catch(() => secrets.delete(name));
    secrets.set(name, secret);
  }
  return secret;
}

let payloadKey: Promise<{ kid: string; key: CryptoKey; publicJwk: JsonWebKey }> | undefined;

/** The server's payload-encryption key (private half unwrapped once per isolate). */
export function getPayloadKey(db: Db, masterKey: string) {
  payloadKey ??= (async () => {
    const row = await ensureInstanceKey(db, masterKey, "payload", async () => {
      const { pkcs8, publicJwk } = await newPayloadKeyPair();
      return { secret: pkcs8, publicKey: JSON.stringify(publicJwk) };
    });
    const raw = await openInstanceSecret(await loadMasterKeyring(masterKey), wrapped(row));
    return {
      kid: row.id,
      key: await importPayloadKey(raw),
      publicJwk: JSON.parse(row.publicKey!) as JsonWebKey,
    };
  })();
  payloadKey.catch(() => (payloadKey = undefined));
  return payloadKey;
}

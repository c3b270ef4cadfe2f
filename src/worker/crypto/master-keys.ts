// The master key, from a key provider (DESIGN §3). A provider wraps and
// unwraps key material (KEKs, instance keys) with an AAD; it never sees a
// secret value.
//   local:  QALA_MASTER_KEY = comma-separated `id:base64(32 bytes)`; the first
//           is active (it wraps), the others only unwrap, which is what lets
//           the master key rotate without a flag day.
//   remote: a Transit-style KMS (Vault's Transit engine, or another Qalá's
//           /vault/v1/transit) wraps and unwraps; the master key never enters
//           this Worker. See ./transit-client.ts.
import { fromBase64, toBase64 } from "./encoding.js";
import { IntegrityError, importAesKey, open, seal } from "./aead.js";
import { isRemotelyWrapped, remoteKeyring, type RemoteKeySettings } from "./transit-client.js";

export interface Wrapped {
  wrappedKey: string;
  /** The master key that wrapped it: a local id, or `transit:<key name>`. */
  wrappedBy: string;
}

export interface MasterKeyring {
  readonly activeId: string;
  wrap(raw: Uint8Array<ArrayBuffer>, aad: string): Promise<Wrapped>;
  unwrap(wrapped: Wrapped, aad: string): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * The active key has versions of its own (a KMS key rotated in the KMS):
   * wrapping again what it already wraps moves that to its newest version.
   */
  readonly versioned?: boolean;
}

const MASTER_KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A key source naming the remote provider starts with this (not a valid local id). */
const REMOTE_PREFIX = "@remote ";

export class MasterKeyConfigError extends Error {
  override readonly name = "MasterKeyConfigError";
}

/**
 * What every call site passes as `masterKey`: QALA_MASTER_KEY for the local
 * provider, or the remote provider's settings (QALA_KEY_PROVIDER=remote with
 * QALA_KMS_URL, QALA_KMS_TOKEN and QALA_KMS_KEY).
 */
export function keySource(env: {
  QALA_MASTER_KEY?: string;
  QALA_KEY_PROVIDER?: string;
  QALA_KMS_URL?: string;
  QALA_KMS_TOKEN?: string;
  QALA_KMS_KEY?: string;
}): string {
  if ((env.QALA_KEY_PROVIDER ?? "local") === "local") return env.QALA_MASTER_KEY ?? "";
  if (env.QALA_KEY_PROVIDER !== "remote") {
    throw new MasterKeyConfigError("QALA_KEY_PROVIDER is `local` or `remote`");
  }
  if (!env.QALA_KMS_URL || !env.QALA_KMS_TOKEN || !env.QALA_KMS_KEY) {
    throw new MasterKeyConfigError(
      "the remote key provider needs QALA_KMS_URL, QALA_KMS_TOKEN and QALA_KMS_KEY",
    );
  }
  const settings: RemoteSource = {
    url: env.QALA_KMS_URL,
    token: env.QALA_KMS_TOKEN,
    key: env.QALA_KMS_KEY,
    // Local keys kept beside the remote provider only unwrap: that is how an
    // instance moves onto a KMS (the re-wrap job, then QALA_MASTER_KEY goes).
    ...(env.QALA_MASTER_KEY ? { local: env.QALA_MASTER_KEY } : {}),
  };
  return REMOTE_PREFIX + JSON.stringify(settings);
}

type RemoteSource = RemoteKeySettings & { local?: string };

async function remoteSource(source: RemoteSource): Promise<MasterKeyring> {
  const { local, ...settings } = source;
  const remote = remoteKeyring(settings);
  if (!local) return remote;
  const fallback = await parseMasterKeyring(local);
  return {
    activeId: remote.activeId,
    wrap: remote.wrap,
    versioned: remote.versioned,
    unwrap: (wrapped, aad) =>
      isRemotelyWrapped(wrapped) ? remote.unwrap(wrapped, aad) : fallback.unwrap(wrapped, aad),
  };
}

let cached: { source: string; ring: Promise<MasterKeyring> } | undefined;

/** Builds the keyring once per isolate (per distinct configuration string). */
export function loadMasterKeyring(source: string | undefined): Promise<MasterKeyring> {
  if (!source) throw new MasterKeyConfigError("QALA_MASTER_KEY is not set");
  if (cached?.source !== source) {
    const ring = source.startsWith(REMOTE_PREFIX)
      ? remoteSource(JSON.parse(source.slice(REMOTE_PREFIX.length)) as RemoteSource)
      : parseMasterKeyring(source);
    ring.catch(() => (cached = undefined));
    cached = { source, ring };
  }
  return cached.ring;
}

export async function parseMasterKeyring(source: string): Promise<MasterKeyring> {
  const keys = new Map<string, CryptoKey>();
  let activeId: string | undefined;
  for (const entry of source
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(":");
    const id = entry.slice(0, colon);
    if (colon < 1 || !MASTER_KEY_ID.test(id)) {
      throw new MasterKeyConfigError("QALA_MASTER_KEY entries are `id:base64`");
    }
    if (keys.has(id)) throw new MasterKeyConfigError(`master key id ${id} appears twice`);
    let raw: Uint8Array<ArrayBuffer>;
    try {
      raw = fromBase64(entry.slice(colon + 1));
    } catch {
      throw new MasterKeyConfigError(`master key ${id} is not base64`);
    }
    if (raw.length !== 32) throw new MasterKeyConfigError(`master key ${id} is not 32 bytes`);
    keys.set(id, await importAesKey(raw));
    activeId ??= id;
  }
  if (!activeId) throw new MasterKeyConfigError("QALA_MASTER_KEY holds no key");
  const active = activeId;
  return {
    activeId: active,
    async wrap(raw, aad) {
      const sealed = await seal(keys.get(active)!, raw, aad);
      return { wrappedKey: toBase64(sealed), wrappedBy: active };
    },
    async unwrap(wrapped, aad) {
      const key = keys.get(wrapped.wrappedBy);
      if (!key) throw new IntegrityError(`master key ${wrapped.wrappedBy} is not configured`);
      let blob: Uint8Array<ArrayBuffer>;
      try {
        blob = fromBase64(wrapped.wrappedKey);
      } catch {
        throw new IntegrityError("a wrapped key is not base64");
      }
      return open(key, blob, aad);
    },
  };
}

/**
 * Re-wraps a key wrapped by any configured master key under the active one,
 * with the same AAD. The raw key exists only inside this call.
 */
export async function rewrapUnderActive(
  ring: MasterKeyring,
  wrapped: Wrapped,
  aad: string,
): Promise<Wrapped> {
  const raw = await ring.unwrap(wrapped, aad);
  try {
    return await ring.wrap(raw, aad);
  } finally {
    raw.fill(0);
  }
}

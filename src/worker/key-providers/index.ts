// Which key provider wraps this instance's keys (DESIGN §3), from the
// Worker's settings: the local master keyring (../crypto/master-keys.ts), or
// a Transit-style KMS (Vault's Transit engine, or another Qalá's
// /vault/v1/transit) through ./transit-client.ts, where the master key never
// enters this Worker.
import {
  MasterKeyConfigError,
  parseMasterKeyring,
  type MasterKeyring,
} from "../crypto/master-keys.js";
import { isRemotelyWrapped, remoteKeyring, type RemoteKeySettings } from "./transit-client.js";

export { KeyProviderError } from "./transit-client.js";

/** A key source naming the remote provider starts with this (not a valid local id). */
const REMOTE_PREFIX = "@remote ";

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

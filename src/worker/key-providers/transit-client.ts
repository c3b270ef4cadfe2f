// The remote key provider: a client of Vault's Transit API
// (POST <url>/v1/transit/encrypt/<key>, .../decrypt/<key>, X-Vault-Token),
// which Vault's Transit engine and Qalá's own /vault/v1/transit both speak.
// Key material is sent as base64 plaintext with the AAD as `associated_data`
// (an aes256-gcm96 key); what comes back (`vault:v<n>:…`) is stored as is.
import { fromBase64, toBase64, utf8 } from "../crypto/encoding.js";
import type { MasterKeyring, Wrapped } from "../crypto/master-keys.js";

export interface RemoteKeySettings {
  /** The Vault address: Vault itself, or `<qala-url>/vault`. */
  url: string;
  token: string;
  /** The Transit key that wraps this instance's keys. */
  key: string;
}

/** The key provider could not be reached or refused: the request answers 503, nothing is stored. */
export class KeyProviderError extends Error {
  override readonly name = "KeyProviderError";
}

const ATTEMPTS = 3;
const PREFIX = "transit:";

/** Whether a key was wrapped by a remote provider (its `wrappedBy` is `transit:<key>`). */
export const isRemotelyWrapped = (wrapped: Wrapped) => wrapped.wrappedBy.startsWith(PREFIX);

async function transit(
  settings: RemoteKeySettings,
  operation: "encrypt" | "decrypt",
  key: string,
  body: Record<string, string>,
): Promise<Record<string, string>> {
  let reason = "";
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const res = await fetch(
        `${settings.url.replace(/\/+$/, "")}/v1/transit/${operation}/${encodeURIComponent(key)}`,
        {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Vault-Token": settings.token },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        },
      );
      if (res.ok) return ((await res.json()) as { data: Record<string, string> }).data;
      reason = `${operation} answered ${res.status}`;
      await res.body?.cancel();
      if (res.status < 500) break; // a refusal will not change by retrying
    } catch {
      reason = `${operation} could not reach the key provider`;
    }
    if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
  }
  throw new KeyProviderError(`the key provider failed: ${reason}`);
}

export function remoteKeyring(settings: RemoteKeySettings): MasterKeyring {
  const activeId = `${PREFIX}${settings.key}`;
  return {
    activeId,
    // Vault's rewrap endpoint takes no associated_data, so a re-wrap after a
    // rotation in the KMS is a decrypt and an encrypt (the master-key job).
    versioned: true,
    async wrap(raw, aad): Promise<Wrapped> {
      const data = await transit(settings, "encrypt", settings.key, {
        plaintext: toBase64(raw),
        associated_data: toBase64(utf8(aad)),
      });
      if (typeof data.ciphertext !== "string") {
        throw new KeyProviderError("the key provider's answer has no ciphertext");
      }
      return { wrappedKey: data.ciphertext, wrappedBy: activeId };
    },
    async unwrap(wrapped, aad) {
      if (!isRemotelyWrapped(wrapped)) {
        throw new KeyProviderError(
          `key ${wrapped.wrappedBy} is wrapped by a local master key: keep QALA_MASTER_KEY set until the re-wrap job has run`,
        );
      }
      const data = await transit(settings, "decrypt", wrapped.wrappedBy.slice(PREFIX.length), {
        ciphertext: wrapped.wrappedKey,
        associated_data: toBase64(utf8(aad)),
      });
      if (typeof data.plaintext !== "string") {
        throw new KeyProviderError("the key provider's answer has no plaintext");
      }
      return fromBase64(data.plaintext);
    },
  };
}

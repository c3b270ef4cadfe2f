// Server-wide secrets wrapped by the master key: the password pepper and the
// ES256 signing keys of access tokens. Wrapping (not deriving from the master
// key) is what lets them survive a master-key rotation unchanged.
import { randomBytes } from "./encoding.js";
import type { MasterKeyring } from "./master-keys.js";

export const instanceAad = (name: string, version: number) => `qala:instance:${name}:${version}`;

export interface WrappedInstanceSecret {
  name: string;
  version: number;
  wrappedKey: string;
  wrappedBy: string;
}

export async function sealInstanceSecret(
  ring: MasterKeyring,
  name: string,
  version: number,
  secret: Uint8Array<ArrayBuffer>,
): Promise<WrappedInstanceSecret> {
  return { name, version, ...(await ring.wrap(secret, instanceAad(name, version))) };
}

export async function openInstanceSecret(
  ring: MasterKeyring,
  wrapped: WrappedInstanceSecret,
): Promise<Uint8Array<ArrayBuffer>> {
  return ring.unwrap(wrapped, instanceAad(wrapped.name, wrapped.version));
}

export const newPepper = () => randomBytes(32);

export function importPepper(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

const ES256 = { name: "ECDSA", namedCurve: "P-256" } as const;

/** A new ES256 key pair: the private key as PKCS#8 bytes (to be wrapped), the public as a JWK. */
export async function newSigningKeyPair(): Promise<{
  pkcs8: Uint8Array<ArrayBuffer>;
  publicJwk: JsonWebKey;
}> {
  const pair = (await crypto.subtle.generateKey(ES256, true, ["sign", "verify"])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(
    (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer,
  );
  const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return {
    pkcs8,
    publicJwk: { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y },
  };
}

export function importSigningKey(pkcs8: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", pkcs8, ES256, false, ["sign"]);
}

export function importVerifyKey(jwk: JsonWebKey): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", jwk, ES256, false, ["verify"]);
}

const ECDH = { name: "ECDH", namedCurve: "P-256" } as const;

/** The payload-encryption key pair (ECDH-ES+A256KW): PKCS#8 private half, public JWK. */
export async function newPayloadKeyPair(): Promise<{
  pkcs8: Uint8Array<ArrayBuffer>;
  publicJwk: JsonWebKey;
}> {
  const pair = (await crypto.subtle.generateKey(ECDH, true, ["deriveBits"])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(
    (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer,
  );
  const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return { pkcs8, publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } };
}

export function importPayloadKey(pkcs8: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", pkcs8, ECDH, false, ["deriveBits"]);
}

// The SDK's side of payload encryption: bodies are sealed as compact JWE to the
// server's published key, and answers are requested sealed to an ephemeral key
// that never leaves this client (Qala-Response-Key), then opened here.
import {
  CompactEncrypt,
  base64url,
  compactDecrypt,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from "jose";

export interface PayloadCrypto {
  seal(body: string): Promise<string>;
  responseKeyHeader: string;
  open(response: Response): Promise<Response>;
}

/** Sets up payload encryption against the server's JWKS (fetched once). */
export async function payloadCrypto(
  fetchJwks: () => Promise<{ keys: JWK[] }>,
): Promise<PayloadCrypto> {
  const { keys } = await fetchJwks();
  const published = keys.find((k) => k.use === "enc" && k.alg === "ECDH-ES+A256KW");
  if (!published) throw new Error("the server publishes no payload-encryption key");
  const serverKey = await importJWK(published, "ECDH-ES+A256KW");
  const mine = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256" });
  const responseKeyHeader = base64url.encode(JSON.stringify(await exportJWK(mine.publicKey)));
  return {
    responseKeyHeader,
    seal: (body) =>
      new CompactEncrypt(new TextEncoder().encode(body))
        .setProtectedHeader({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: published.kid })
        .encrypt(serverKey),
    async open(response) {
      if (!/^application\/jose/i.test(response.headers.get("Content-Type") ?? "")) return response;
      const { plaintext, protectedHeader } = await compactDecrypt(
        (await response.text()).trim(),
        mine.privateKey,
      );
      const headers = new Headers(response.headers);
      headers.set("Content-Type", protectedHeader.cty ?? "application/json");
      return new Response(plaintext as Uint8Array<ArrayBuffer>, {
        status: response.status,
        headers,
      });
    },
  };
}

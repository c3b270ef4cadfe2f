// Payload encryption over TLS (DESIGN §3): request bodies may arrive as a
// compact JWE (ECDH-ES+A256KW, A256GCM) to the server's key published at
// /.well-known/jwks.json; a request carrying `Qala-Response-Key` (an ephemeral
// P-256 public JWK, base64url JSON) gets its successful answer as a JWE to that
// key. This runs around the app: the routes see plain JSON, and learn whether
// the body was encrypted from `Qala-Encrypted-Request`, which only this module sets.
import { CompactEncrypt, base64url, compactDecrypt, importJWK, type JWK } from "jose";
import { openDb } from "./db/client.js";
import type { Env } from "./env.js";
import { AppError } from "./errors.js";
import { getPayloadKey } from "./services/server-keys.js";
import { keySource } from "./key-providers/index.js";

export const ENCRYPTED_MARK = "Qala-Encrypted-Request";
export const RESPONSE_KEY_HEADER = "Qala-Response-Key";
const JOSE = /^application\/jose\s*(;|$)/i;
const ALGORITHMS = {
  keyManagementAlgorithms: ["ECDH-ES+A256KW"],
  contentEncryptionAlgorithms: ["A256GCM"],
};

export async function jwks(env: Env) {
  const { kid, publicJwk } = await getPayloadKey(openDb(env.DB), keySource(env));
  return { keys: [{ ...publicJwk, kid, use: "enc", alg: "ECDH-ES+A256KW" }] };
}

/** The request as the app should see it: a JWE body decrypted to JSON, and marked. */
export async function openRequest(request: Request, env: Env): Promise<Request> {
  const jose = JOSE.test(request.headers.get("Content-Type") ?? "");
  if (!jose && !request.headers.has(ENCRYPTED_MARK)) return request;
  const headers = new Headers(request.headers);
  headers.delete(ENCRYPTED_MARK); // only this module may say a body was encrypted
  if (!JOSE.test(request.headers.get("Content-Type") ?? ""))
    return new Request(request, { headers });
  const { key } = await getPayloadKey(openDb(env.DB), keySource(env));
  let plaintext: Uint8Array;
  try {
    const jwe = new TextDecoder().decode(await request.arrayBuffer()).trim();
    ({ plaintext } = await compactDecrypt(jwe, key, ALGORITHMS));
  } catch {
    throw new AppError("bad_request", "the request body is not a JWE to this server's key");
  }
  headers.set("Content-Type", "application/json");
  headers.set(ENCRYPTED_MARK, "1");
  headers.delete("Content-Length");
  return new Request(request, { headers, body: plaintext as Uint8Array<ArrayBuffer> });
}

/** The response sealed to the client's ephemeral key, when one was sent and the answer has a body. */
export async function sealResponse(request: Request, response: Response): Promise<Response> {
  const header = request.headers.get(RESPONSE_KEY_HEADER);
  if (!header || !response.ok || response.status === 204 || response.body === null) return response;
  let key: CryptoKey | Uint8Array;
  try {
    const jwk = JSON.parse(new TextDecoder().decode(base64url.decode(header))) as JWK;
    if (jwk.kty !== "EC" || jwk.crv !== "P-256" || "d" in jwk)
      throw new Error("not a P-256 public key");
    key = (await importJWK(jwk, "ECDH-ES+A256KW")) as CryptoKey;
  } catch {
    return Response.json(
      {
        error: {
          code: "bad_request",
          message: `${RESPONSE_KEY_HEADER} is not a P-256 public JWK`,
          request_id: response.headers.get("X-Request-Id") ?? "",
        },
      },
      { status: 400, headers: { "X-Request-Id": response.headers.get("X-Request-Id") ?? "" } },
    );
  }
  const body = new Uint8Array(await response.arrayBuffer());
  const jwe = await new CompactEncrypt(body)
    .setProtectedHeader({
      alg: "ECDH-ES+A256KW",
      enc: "A256GCM",
      cty: response.headers.get("Content-Type") ?? "application/json",
    })
    .encrypt(key);
  const headers = new Headers(response.headers);
  headers.set("Content-Type", "application/jose");
  headers.delete("Content-Length");
  return new Response(jwe, { status: response.status, headers });
}

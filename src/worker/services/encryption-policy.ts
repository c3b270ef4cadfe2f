// require_encrypted_payloads: with it set, a secret value may enter only in a
// JWE body and leave only sealed to the caller's key (Qala-Response-Key).
import type { ProjectSettings } from "../../contract/index.js";
import { AppError } from "../errors.js";

const refused = (what: string) =>
  new AppError("encryption_required", `this project requires encrypted payloads: ${what}`);

export function checkEncryptedRequest(settings: ProjectSettings, encrypted: boolean): void {
  if (settings.require_encrypted_payloads && !encrypted) {
    throw refused("send the body as application/jose (a JWE to /.well-known/jwks.json)");
  }
}

export function checkSealedResponse(required: boolean, responseKey: string | undefined): void {
  if (required && !responseKey) throw refused("send Qala-Response-Key to receive values");
}

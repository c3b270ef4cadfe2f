// Mutual TLS binding: Cloudflare terminates TLS and checks the client
// certificate (API Shield); the Worker sees the verdict in request.cf.tlsClientAuth
// and accepts a request only with a verified certificate named on the binding.
import type { z } from "zod";
import type { ClientCertificateBindingSchema } from "../../contract/index.js";

export type ClientCertificate = z.infer<typeof ClientCertificateBindingSchema>[number];

interface TlsClientAuth {
  certPresented?: string;
  certVerified?: string;
  certFingerprintSHA256?: string;
  certIssuerDN?: string;
  certSerial?: string;
}

const normalizeHex = (hex: string) => hex.replace(/:/g, "").toLowerCase();
const normalizeSerial = (serial: string) =>
  serial.replace(/:/g, "").toLowerCase().replace(/^0+/, "");

/** No binding: any request passes. A binding: only a verified certificate it names. */
export function certificateMatches(
  binding: readonly ClientCertificate[] | null,
  cf: unknown,
): boolean {
  if (!binding || binding.length === 0) return true;
  const auth = (cf as { tlsClientAuth?: TlsClientAuth } | undefined)?.tlsClientAuth;
  if (!auth || auth.certPresented !== "1" || auth.certVerified !== "SUCCESS") return false;
  return binding.some((c) =>
    "sha256" in c
      ? normalizeHex(c.sha256) === normalizeHex(auth.certFingerprintSHA256 ?? "")
      : c.issuer === auth.certIssuerDN &&
        normalizeSerial(c.serial) === normalizeSerial(auth.certSerial ?? ""),
  );
}

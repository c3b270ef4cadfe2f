// Mutual TLS binding: Cloudflare terminates TLS and checks the client
// certificate (API Shield); the Worker sees the verdict in request.cf.tlsClientAuth
// and accepts a request only with a verified certificate named on the binding.
import { z } from "zod";

export const ClientCertificateSchema = z.union([
  z.strictObject({ sha256: z.string().regex(/^[0-9a-fA-F:]{64,95}$/) }),
  z.strictObject({ issuer: z.string().min(1), serial: z.string().min(1) }),
]);
export type ClientCertificate = z.infer<typeof ClientCertificateSchema>;

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

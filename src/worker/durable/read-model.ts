// What a coordinator hands the Worker for a read: ciphertext rows and the
// wrapped KEKs they need, never a plaintext value (the Worker decrypts).
import type { ExportFormat } from "../../contract/index.js";
import type { AuditActor } from "../audit/event.js";

export interface SealedRow {
  secretId: string;
  key: string;
  version: number;
  ciphertext: string | null;
  iv: string | null;
  wrappedDek: string | null;
  kekId: string;
  revoked: boolean;
  destroyed: boolean;
  createdAt: string;
  createdBy: string | null;
  updatedAt: string;
  updatedBy: string | null;
  tags: string;
  note: string | null;
}

export interface WrappedKekRow {
  id: string;
  environmentId: string;
  version: number;
  wrappedKey: string;
  wrappedBy: string;
  destroyed: boolean;
}

export type ReadWhat =
  | { kind: "secret"; environment: string; key: string; version?: number }
  | { kind: "list"; environment: string; values: boolean; limit: number; cursor?: string }
  | { kind: "export"; environment: string; format: ExportFormat };

export interface TlsInfo {
  certPresented?: string;
  certVerified?: string;
  certFingerprintSHA256?: string;
  certIssuerDN?: string;
  certSerial?: string;
}

/** A project API token, checked by the coordinator; or a principal the Worker already authorized. */
export type ReadCredential =
  | {
      kind: "token";
      token: string;
      /**
       * The client certificate, or null without one. Left out until a token
       * bound to certificates needs it: reading `request.cf` costs a parse.
       */
      tls?: TlsInfo | null;
    }
  | { kind: "authorized"; actor: AuditActor; canReadValues: boolean };

export interface ReadRequest {
  projectId: string;
  credential: ReadCredential;
  what: ReadWhat;
  ifNoneMatch?: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

/** The coordinator's answer: a read, or a request to call again with the client certificate. */
export type CoordinatorAnswer = ReadAnswer | { tlsNeeded: true };

export type ReadAnswer =
  | { notModified: true; etag: string }
  | {
      notModified: false;
      etag: string;
      projectId: string;
      environmentId: string;
      rows: SealedRow[];
      keks: WrappedKekRow[];
      /** For lists: whether values may be shown, and the next cursor. */
      withValues: boolean;
      nextCursor: string | null;
      /** The project's require_encrypted_payloads: values may leave only sealed to the caller. */
      requireEncryptedPayloads: boolean;
    };

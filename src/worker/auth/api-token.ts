// Verifies `qala_<kind>_<id>_<secret>` API tokens: look up by id, compare the
// secret's hash in constant time. An unknown id does the same work against a
// dummy hash, so a probe cannot tell a wrong secret from an unknown id.
import type { Permission } from "../../contract/index.js";
import type { ApiTokenRow } from "../db/identity.js";
import { digestsEqual, sha256Hex } from "../crypto/hashing.js";
import { parseToken, type TokenKind } from "../crypto/ids.js";
import type { ClientCertificate } from "./client-certificate.js";
import type { GrantSpec, Principal } from "./principal.js";

const DUMMY_HASH = "0".repeat(64);

export interface VerifiedToken {
  principal: Principal;
  row: ApiTokenRow;
  /** A project token's grant (null for an admin token), parsed once. */
  grant: GrantSpec | null;
  ipAllowlist: string[] | null;
  clientCertificates: ClientCertificate[] | null;
}

export const parseJson = <T>(text: string | null): T | null =>
  text === null ? null : (JSON.parse(text) as T);

/** The grant a token or trust-policy row carries (a role or permissions, environments). */
export const grantOf = (row: {
  role: string | null;
  permissions: string | null;
  environments: string | null;
  expiresAt?: string | null;
}): GrantSpec => ({
  role: row.role,
  permissions: parseJson<Permission[]>(row.permissions),
  environments: parseJson<string[]>(row.environments),
  expiresAt: row.expiresAt ?? null,
});

/**
 * Verifies a token string against the row `lookUp` finds by its id (D1 in
 * the Worker, the coordinator's cache on the read path): null for anything
 * that is not a live token of one of `kinds`.
 */
export async function verifyApiToken(
  lookUp: (id: string) => Promise<ApiTokenRow | undefined>,
  token: string,
  now: number,
  kinds: readonly TokenKind[] = ["admin", "svc"],
): Promise<VerifiedToken | null> {
  const parsed = parseToken(token, kinds);
  const row = parsed ? await lookUp(parsed.id) : undefined;
  const presented = sha256Hex(parsed?.secret ?? token);
  const hashMatches = digestsEqual(presented, row?.secretHash ?? DUMMY_HASH);
  if (!parsed || !row || !hashMatches) return null;
  if (row.revokedAt || (row.expiresAt && Date.parse(row.expiresAt) <= now)) return null;
  const admin = row.kind === "admin";
  if (admin !== (parsed.kind === "admin")) return null;
  const grant = admin ? null : grantOf(row);
  return {
    row,
    grant,
    ipAllowlist: parseJson<string[]>(row.ipAllowlist),
    clientCertificates: parseJson<ClientCertificate[]>(row.clientCertificates),
    principal: {
      kind: "token",
      id: row.id,
      name: row.name,
      instanceAdmin: admin,
      projectId: row.projectId,
      userId: row.userId,
      grant,
    },
  };
}

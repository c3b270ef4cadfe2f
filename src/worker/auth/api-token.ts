// Verifies `qala_<kind>_<id>_<secret>` API tokens: look up by id, compare the
// secret's hash in constant time. An unknown id does the same work against a
// dummy hash, so a probe cannot tell a wrong secret from an unknown id.
import type { Permission } from "../../contract/index.js";
import type { Db } from "../db/client.js";
import { findApiToken, type ApiTokenRow } from "../db/identity.js";
import { digestsEqual, sha256Hex } from "../crypto/hashing.js";
import { parseToken } from "../crypto/ids.js";
import type { ClientCertificate } from "./client-certificate.js";
import type { Principal } from "./principal.js";

const DUMMY_HASH = "0".repeat(64);

export interface VerifiedToken {
  principal: Principal;
  row: ApiTokenRow;
  ipAllowlist: string[] | null;
  clientCertificates: ClientCertificate[] | null;
}

export const parseJson = <T>(text: string | null): T | null =>
  text === null ? null : (JSON.parse(text) as T);

export async function verifyApiToken(
  db: Db,
  token: string,
  now: number,
): Promise<VerifiedToken | null> {
  const parsed = parseToken(token, ["admin", "svc"]);
  const row = parsed ? await findApiToken(db, parsed.id) : undefined;
  const presented = await sha256Hex(parsed?.secret ?? token);
  const hashMatches = digestsEqual(presented, row?.secretHash ?? DUMMY_HASH);
  if (!parsed || !row || !hashMatches) return null;
  if (row.revokedAt || (row.expiresAt && Date.parse(row.expiresAt) <= now)) return null;
  const admin = row.kind === "admin";
  if (admin !== (parsed.kind === "admin")) return null;
  return {
    row,
    ipAllowlist: parseJson<string[]>(row.ipAllowlist),
    clientCertificates: parseJson<ClientCertificate[]>(row.clientCertificates),
    principal: {
      kind: "token",
      id: row.id,
      name: row.name,
      instanceAdmin: admin,
      projectId: row.projectId,
      userId: row.userId,
      grant: admin
        ? null
        : {
            role: row.role,
            permissions: parseJson<Permission[]>(row.permissions),
            environments: parseJson<string[]>(row.environments),
            expiresAt: row.expiresAt,
          },
    },
  };
}

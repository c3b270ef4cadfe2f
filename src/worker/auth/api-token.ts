// Verifies `qala_<kind>_<id>_<secret>` API tokens: look up by id, compare the
// secret's hash in constant time. An unknown id does the same work against a
// dummy hash, so a probe cannot tell a wrong secret from an unknown id.
import type { Db } from "../db/client.js";
import { findApiToken } from "../db/identity.js";
import { constantTimeEqual, sha256Hex } from "../crypto/hashing.js";
import { parseToken } from "../crypto/ids.js";
import type { Principal } from "./principal.js";

const DUMMY_HASH = "0".repeat(64);

export async function verifyApiToken(
  db: Db,
  token: string,
  now: number,
): Promise<Principal | null> {
  const parsed = parseToken(token);
  const row = parsed ? await findApiToken(db, parsed.id) : undefined;
  const presented = await sha256Hex(parsed?.secret ?? token);
  const hashMatches = await constantTimeEqual(presented, row?.secretHash ?? DUMMY_HASH);
  if (!parsed || !row || !hashMatches) return null;
  if (row.revokedAt || (row.expiresAt && Date.parse(row.expiresAt) <= now)) return null;
  if (row.kind !== "admin" || parsed.kind !== "admin") return null;
  return { kind: "token", id: row.id, tokenKind: "admin", userId: row.userId };
}

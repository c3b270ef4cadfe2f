// Signed checkpoints of pruned audit chains. When retention deletes the
// oldest events, the hash of the last deleted one is kept in a checkpoint
// signed with the server's ES256 signing key (a compact JWS whose public key
// is at /.well-known/jwks.json), so the chain that remains still verifies from
// a point nobody without the key could have forged.
import canonicalize from "canonicalize";
import { CompactSign, compactVerify, decodeProtectedHeader } from "jose";
import { fromUtf8, utf8 } from "../crypto/encoding.js";
import type { Db } from "../db/client.js";
import type { CheckpointRow } from "../db/audit.js";
import { getSigningKey, getVerifyKey } from "./server-keys.js";

const TYP = "qala-audit-checkpoint+jws";

export interface CheckpointSigner {
  sign(checkpoint: Omit<CheckpointRow, "signature">): Promise<CheckpointRow>;
  holds(checkpoint: CheckpointRow): Promise<boolean>;
}

const claimsOf = (c: Omit<CheckpointRow, "signature">) =>
  canonicalize({ chain: c.chain, seq: c.seq, hash: c.hash, pruned_at: c.prunedAt })!;

export function checkpointSigner(deps: { db: Db; masterKey: string }): CheckpointSigner {
  return {
    async sign(checkpoint) {
      const { kid, key } = await getSigningKey(deps.db, deps.masterKey);
      const signature = await new CompactSign(utf8(claimsOf(checkpoint)))
        .setProtectedHeader({ alg: "ES256", kid, typ: TYP })
        .sign(key);
      return { ...checkpoint, signature };
    },
    /** True when the signature verifies under a server key and covers exactly this row. */
    async holds(checkpoint) {
      try {
        const header = decodeProtectedHeader(checkpoint.signature);
        if (header.typ !== TYP || typeof header.kid !== "string") return false;
        const key = await getVerifyKey(deps.db, header.kid);
        if (!key) return false;
        const { payload } = await compactVerify(checkpoint.signature, key, {
          algorithms: ["ES256"],
        });
        return fromUtf8(payload) === claimsOf(checkpoint);
      } catch {
        return false;
      }
    },
  };
}

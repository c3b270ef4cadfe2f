// Bootstrap: creates the first instance admin once and hands out an
// instance-admin API token (stored only as a hash).
import type { User } from "../../contract/index.js";
import { isUniqueViolation, nowIso, runBatch, type Db } from "../db/client.js";
import {
  findBootstrapMarker,
  insertApiToken,
  insertBootstrapMarker,
  insertUser,
} from "../db/identity.js";
import { constantTimeEqual, sha256Hex } from "../crypto/hashing.js";
import { newId, newToken } from "../crypto/ids.js";
import { hashPassword } from "../crypto/password.js";
import { AppError } from "../errors.js";

export interface BootstrapInput {
  bootstrap_token: string;
  email: string;
  password: string;
  name?: string;
}

const ALREADY = "this instance is already bootstrapped";

export async function bootstrap(
  deps: { db: Db; bootstrapToken: string | undefined; now: () => number },
  input: BootstrapInput,
): Promise<{ user: User; api_token: string }> {
  if (await findBootstrapMarker(deps.db)) throw new AppError("conflict", ALREADY);
  const expected = deps.bootstrapToken ?? "";
  const valid = await constantTimeEqual(input.bootstrap_token, expected);
  if (!valid || expected === "") {
    throw new AppError("unauthorized", "the bootstrap token is not valid");
  }
  const at = nowIso(deps.now());
  const user: User = {
    id: newId("usr"),
    email: input.email.trim().normalize("NFKC").toLowerCase(),
    name: input.name ?? null,
    instance_role: "admin",
    created_at: at,
  };
  const token = newToken("admin");
  try {
    await runBatch(deps.db, [
      insertBootstrapMarker(deps.db, at),
      insertUser(deps.db, {
        id: user.id,
        email: user.email,
        name: user.name,
        passwordHash: await hashPassword(input.password),
        instanceRole: "admin",
        createdAt: at,
      }),
      insertApiToken(deps.db, {
        id: token.id,
        kind: "admin",
        userId: user.id,
        name: "bootstrap",
        secretHash: await sha256Hex(token.secret),
        createdAt: at,
      }),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict", ALREADY, { cause: error });
    throw error;
  }
  return { user, api_token: token.token };
}

// Bootstrap: creates the first instance admin once and hands out an
// instance-admin API token (stored only as a hash) and a session.
import type { User } from "../../contract/index.js";
import type { JwtDeps } from "../auth/jwt.js";
import { isUniqueViolation, nowIso, runBatch } from "../db/client.js";
import {
  findBootstrapMarker,
  insertApiToken,
  insertBootstrapMarker,
  insertUser,
} from "../db/identity.js";
import { constantTimeEqual, sha256Hex } from "../crypto/hashing.js";
import { newToken } from "../crypto/ids.js";
import { AppError } from "../errors.js";
import { issueTokenPair, type TokenPair } from "./sessions.js";
import { newUserRow, userView } from "./users.js";

export interface BootstrapInput {
  bootstrap_token: string;
  email: string;
  password: string;
  name?: string;
}

const ALREADY = "this instance is already bootstrapped";

export async function bootstrap(
  deps: JwtDeps & { bootstrapToken: string | undefined },
  input: BootstrapInput,
): Promise<{ user: User } & Omit<TokenPair, "token_type" | "expires_in"> & { api_token: string }> {
  if (await findBootstrapMarker(deps.db)) throw new AppError("conflict", ALREADY);
  const expected = deps.bootstrapToken ?? "";
  const valid = await constantTimeEqual(input.bootstrap_token, expected);
  if (!valid || expected === "") {
    throw new AppError("unauthorized", "the bootstrap token is not valid");
  }
  const user = await newUserRow(deps, { ...input, instance_role: "admin" });
  const token = newToken("admin");
  const session = await issueTokenPair(deps, user);
  try {
    await runBatch(deps.db, [
      insertBootstrapMarker(deps.db, nowIso()),
      insertUser(deps.db, user),
      insertApiToken(deps.db, {
        id: token.id,
        kind: "admin",
        userId: user.id,
        name: "bootstrap",
        secretHash: sha256Hex(token.secret),
        createdBy: user.id,
        createdAt: user.createdAt,
      }),
      ...session.statements,
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict", ALREADY, { cause: error });
    throw error;
  }
  const { disabled_at: _, ...view } = userView(user);
  return {
    user: view,
    access_token: session.pair.access_token,
    refresh_token: session.pair.refresh_token,
    api_token: token.token,
  };
}

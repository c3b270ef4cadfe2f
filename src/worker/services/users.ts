// Users (created by an instance admin), and disabling them: a disabled user's
// sessions end at once (refresh tokens revoked; access tokens are refused
// because verification reads the user row).
import type { User } from "../../contract/index.js";
import { isUniqueViolation, nowIso, runBatch, type Db } from "../db/client.js";
import {
  disableUser,
  findUser,
  insertUser,
  listUsers,
  revokeUserApiTokens,
  revokeUserRefreshTokens,
  type UserRow,
} from "../db/identity.js";
import { newId } from "../crypto/ids.js";
import { hashPassword } from "../crypto/password.js";
import { AppError } from "../errors.js";
import { decodeCursor, page } from "./pagination.js";
import { getPepper } from "./server-keys.js";
import { canonicalEmail } from "./sessions.js";

export const userView = (u: UserRow): User & { disabled_at: string | null } => ({
  id: u.id,
  email: u.email,
  name: u.name,
  instance_role: u.instanceRole,
  created_at: u.createdAt,
  disabled_at: u.disabledAt,
});

export interface NewUser {
  email: string;
  password?: string;
  name?: string;
  instance_role?: "admin" | "member";
}

/** The row of a new user (not yet stored): password hashed with the pepper. */
export async function newUserRow(
  deps: { db: Db; masterKey: string },
  input: NewUser,
): Promise<UserRow> {
  return {
    id: newId("usr"),
    email: canonicalEmail(input.email),
    name: input.name ?? null,
    passwordHash: input.password
      ? await hashPassword(input.password, await getPepper(deps.db, deps.masterKey))
      : null,
    instanceRole: input.instance_role ?? "member",
    createdAt: nowIso(),
    disabledAt: null,
  };
}

export async function createUser(
  deps: { db: Db; masterKey: string },
  input: NewUser,
): Promise<UserRow> {
  const row = await newUserRow(deps, input);
  try {
    await insertUser(deps.db, row);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("conflict", "a user with this email exists", { cause: error });
    }
    throw error;
  }
  return row;
}

export async function listUserPage(db: Db, limit: number, cursor?: string) {
  const rows = await listUsers(db, limit, decodeCursor<string>(cursor, "string"));
  return page(rows, limit, userView, (u) => u.email);
}

export async function requireUser(db: Db, id: string): Promise<UserRow> {
  const user = await findUser(db, id);
  if (!user) throw new AppError("not_found", "user not found");
  return user;
}

/** Disables a user and ends every session and every API token of theirs at once. */
export async function disable(db: Db, id: string, actorId: string): Promise<void> {
  const user = await requireUser(db, id);
  if (user.id === actorId) throw new AppError("conflict", "you cannot disable yourself");
  const at = nowIso();
  await runBatch(db, [
    disableUser(db, id, user.disabledAt ?? at),
    revokeUserRefreshTokens(db, id, at),
    revokeUserApiTokens(db, id, at),
  ]);
}

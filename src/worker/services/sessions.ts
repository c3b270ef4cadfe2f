// User sessions: password login, rotating refresh tokens (a replayed refresh
// token revokes its whole family), logout, and the token pair they hand out.
import { signAccessToken, ACCESS_TOKEN_TTL_SECONDS, type JwtDeps } from "../auth/jwt.js";
import { nowIso, runBatch } from "../db/client.js";
import {
  findRefreshToken,
  findUser,
  findUserByEmail,
  insertRefreshToken,
  revokeFamily,
  spendRefreshToken,
  type UserRow,
} from "../db/identity.js";
import { constantTimeEqual, sha256Hex } from "../crypto/hashing.js";
import { newId, newToken, parseToken } from "../crypto/ids.js";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../crypto/password.js";
import { AppError } from "../errors.js";
import { getPepper } from "./server-keys.js";

export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
}

export const canonicalEmail = (email: string) => email.trim().normalize("NFKC").toLowerCase();

const badCredentials = () => new AppError("unauthorized", "the email or password is not valid");

/** Issues an access token and a refresh token in `familyId` (a new family by default). */
export async function issueTokenPair(
  deps: JwtDeps,
  user: UserRow,
  familyId: string = newId("rt"),
): Promise<{ pair: TokenPair; statements: ReturnType<typeof insertRefreshToken>[] }> {
  const refresh = newToken("rt");
  const now = Date.now();
  const access = await signAccessToken(deps, { sub: user.id, kind: "user" });
  return {
    pair: {
      access_token: access,
      refresh_token: refresh.token,
      token_type: "Bearer",
      expires_in: ACCESS_TOKEN_TTL_SECONDS,
    },
    statements: [
      insertRefreshToken(deps.db, {
        id: refresh.id,
        familyId,
        userId: user.id,
        secretHash: sha256Hex(refresh.secret),
        createdAt: nowIso(now),
        expiresAt: nowIso(now + REFRESH_TOKEN_TTL_MS),
      }),
    ],
  };
}

export async function login(
  deps: JwtDeps,
  input: { email: string; password: string },
): Promise<{ pair: TokenPair; user: UserRow }> {
  const user = await findUserByEmail(deps.db, canonicalEmail(input.email));
  const pepper = await getPepper(deps.db, deps.masterKey);
  // An unknown email costs the same hashing as a wrong password.
  const ok = await verifyPassword(
    input.password,
    user?.passwordHash ?? DUMMY_PASSWORD_HASH,
    pepper,
  );
  if (!user || !user.passwordHash || !ok || user.disabledAt) throw badCredentials();
  const { pair, statements } = await issueTokenPair(deps, user);
  await runBatch(deps.db, statements);
  return { pair, user };
}

/** Verifies a refresh token string; null for anything that is not a live, known token. */
async function lookUp(deps: JwtDeps, token: string) {
  const parsed = parseToken(token, ["rt"]);
  const row = parsed ? await findRefreshToken(deps.db, parsed.id) : undefined;
  const presented = sha256Hex(parsed?.secret ?? token);
  const matches = await constantTimeEqual(presented, row?.secretHash ?? "0".repeat(64));
  return parsed && row && matches ? row : null;
}

export async function refresh(deps: JwtDeps, token: string): Promise<TokenPair> {
  const row = await lookUp(deps, token);
  if (!row || row.revokedAt || Date.parse(row.expiresAt) <= Date.now()) {
    throw new AppError("unauthorized", "the refresh token is not valid");
  }
  const at = nowIso();
  // Spending is conditional on nobody having spent it: of two racing uses, one
  // wins; a second use (a replay) revokes the whole family.
  const spent = row.usedAt ? [] : await spendRefreshToken(deps.db, row.id, at);
  if (spent.length === 0) {
    await revokeFamily(deps.db, row.familyId, at);
    throw new AppError(
      "unauthorized",
      "the refresh token was already used; its session is revoked",
    );
  }
  const user = await findUser(deps.db, row.userId);
  if (!user || user.disabledAt)
    throw new AppError("unauthorized", "the refresh token is not valid");
  const { pair, statements } = await issueTokenPair(deps, user, row.familyId);
  await runBatch(deps.db, statements);
  return pair;
}

export async function logout(deps: JwtDeps, token: string): Promise<void> {
  const row = await lookUp(deps, token);
  if (row) await revokeFamily(deps.db, row.familyId, nowIso());
}

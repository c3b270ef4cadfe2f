// Prefixed random ids (`prj_…`) and API token strings (`qala_<kind>_<id>_<secret>`).
// Ids contain `_`, which no slug can, so a path segment is unambiguously one or the other.
import { BASE32_PATTERN, randomBytes, toBase32 } from "./encoding.js";

export type IdPrefix =
  | "prj"
  | "env"
  | "sec"
  | "usr"
  | "team"
  | "tok"
  | "trust"
  | "grant"
  | "role"
  | "rt"
  | "kek"
  | "key"
  | "job"
  | "req";

export const newId = (prefix: IdPrefix): string => `${prefix}_${toBase32(randomBytes(10))}`;

/** `admin`: instance-admin API token; `svc`: project API token; `rt`: refresh token. */
export type TokenKind = "admin" | "svc" | "rt";

export interface ParsedToken {
  kind: TokenKind;
  /** The token's database id (`tok_<base32>`). */
  id: string;
  secret: string;
}

/** A new token; its id is `<prefix>_<id part>` (`tok_` for API tokens, `rt_` for refresh tokens). */
export function newToken(kind: TokenKind): ParsedToken & { token: string } {
  const idPart = toBase32(randomBytes(10));
  const secret = toBase32(randomBytes(32));
  return {
    kind,
    id: `${idPrefixOf(kind)}_${idPart}`,
    secret,
    token: `qala_${kind}_${idPart}_${secret}`,
  };
}

const idPrefixOf = (kind: TokenKind) => (kind === "rt" ? "rt" : "tok");

export function parseToken(token: string, kinds: readonly TokenKind[]): ParsedToken | null {
  const parts = token.split("_");
  if (parts.length !== 4 || parts[0] !== "qala") return null;
  const [, kind, idPart, secret] = parts as [string, TokenKind, string, string];
  if (!kinds.includes(kind)) return null;
  if (!BASE32_PATTERN.test(idPart) || !BASE32_PATTERN.test(secret) || idPart.length > 32)
    return null;
  return { kind, id: `${idPrefixOf(kind)}_${idPart}`, secret };
}

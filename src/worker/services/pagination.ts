// Opaque list cursors and the `{items, next_cursor}` page shape.
import { AppError } from "../errors.js";

export const encodeCursor = (position: string | number): string =>
  btoa(JSON.stringify(position)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export function decodeCursor<T extends string | number>(
  cursor: string | undefined,
  kind: "string" | "number",
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
    if (typeof value === kind) return value as T;
  } catch {
    // fall through
  }
  throw new AppError("validation_failed", "cursor is not valid", {
    details: [{ path: ["cursor"], message: "not a cursor this server issued" }],
  });
}

/** Rows were fetched with limit + 1: the extra row tells that a next page exists. */
export function page<R, I>(
  rows: R[],
  limit: number,
  toItem: (row: R) => I,
  position: (row: R) => string | number,
): { items: I[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return {
    items: shown.map(toItem),
    next_cursor: more && last !== undefined ? encodeCursor(position(last)) : null,
  };
}

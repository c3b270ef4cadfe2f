// What a read answers, built from a coordinator's answer and the values the
// Worker decrypted: the list, the single secret, the export.
import type { ExportFormat } from "../../contract/index.js";
import type { ReadAnswer, SealedRow } from "../durable/read-model.js";
import { renderEnvironment, type Rendered } from "./export-format.js";

type Rows = Extract<ReadAnswer, { notModified: false }>;

export function listBody(answer: Rows, plain: (string | null)[]) {
  const items = answer.rows.map((row, i) => ({
    key: row.key,
    version: row.version,
    updated_at: row.updatedAt,
    updated_by: row.updatedBy,
    tags: JSON.parse(row.tags) as string[],
    note: row.note,
    ...(row.revoked || row.destroyed ? { revoked: true } : {}),
    ...(typeof plain[i] === "string" ? { value: plain[i] } : {}),
  }));
  return { items, next_cursor: answer.nextCursor };
}

export const secretBody = (row: SealedRow, value: string) => ({
  key: row.key,
  value,
  version: row.version,
  created_at: row.createdAt,
  created_by: row.createdBy,
  tags: JSON.parse(row.tags) as string[],
  note: row.note,
});

/** The rendered environment; keys left out (revoked, or not representable) are named. */
export function exportBody(format: ExportFormat, answer: Rows, plain: (string | null)[]): Rendered {
  const values = new Map<string, string>();
  const skipped: string[] = [];
  answer.rows.forEach((row, i) => {
    const value = plain[i];
    if (typeof value === "string") values.set(row.key, value);
    else skipped.push(row.key);
  });
  const rendered = renderEnvironment(format, values);
  return { ...rendered, skipped: [...skipped, ...rendered.skipped] };
}

// Size limits on values and bulk changes (413), checked before anything is sent on.
import { MAX_BULK_BYTES, MAX_BULK_KEYS, MAX_VALUE_BYTES } from "../../contract/index.js";
import { AppError } from "../errors.js";

const encoder = new TextEncoder();
const byteLength = (value: string) => encoder.encode(value).length;

export function checkValueSize(key: string, value: string): void {
  if (byteLength(value) > MAX_VALUE_BYTES) {
    throw new AppError("payload_too_large", `the value of ${key} exceeds ${MAX_VALUE_BYTES} bytes`);
  }
}

export function checkBulkSize(set: Record<string, string>, remove: string[]): void {
  const keys = Object.keys(set);
  if (keys.length + remove.length > MAX_BULK_KEYS) {
    throw new AppError("payload_too_large", `a bulk change holds at most ${MAX_BULK_KEYS} keys`);
  }
  const both = remove.filter((key) => Object.hasOwn(set, key));
  if (both.length) {
    throw new AppError("validation_failed", "a key cannot be both set and deleted", {
      details: both.map((key) => ({ path: ["delete", key], message: "also in set" })),
    });
  }
  if (new Set(remove).size !== remove.length) {
    throw new AppError("validation_failed", "a key is listed twice in delete", {
      details: [{ path: ["delete"], message: "duplicate keys" }],
    });
  }
  let total = 0;
  for (const key of keys) {
    const size = byteLength(set[key]!);
    if (size > MAX_VALUE_BYTES) {
      throw new AppError(
        "payload_too_large",
        `the value of ${key} exceeds ${MAX_VALUE_BYTES} bytes`,
      );
    }
    total += size;
  }
  if (total > MAX_BULK_BYTES) {
    throw new AppError(
      "payload_too_large",
      `a bulk change carries at most ${MAX_BULK_BYTES} bytes`,
    );
  }
}

// Caps request bodies before they are parsed; the answer is the 413 envelope.
// A bulk change (PATCH of an environment's secrets) may carry up to 1,000
// values of 64 KiB within MAX_BULK_BYTES; every other body is small.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { MAX_BULK_BYTES } from "../../contract/index.js";
import { AppError } from "../errors.js";

const DEFAULT_LIMIT = 1024 * 1024;
/** Bulk values plus JSON escaping (a control character takes 6 bytes as `\u00XX`). */
const BULK_LIMIT = MAX_BULK_BYTES + 8 * 1024 * 1024;
const BULK_PATH = /^\/v1\/projects\/[^/]+\/environments\/[^/]+\/secrets\/?$/;

const limiter = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError("payload_too_large", `the request body exceeds ${maxSize} bytes`);
    },
  });

const standard = limiter(DEFAULT_LIMIT);
const bulk = limiter(BULK_LIMIT);

export const limitBodies = (): MiddlewareHandler =>
  async function limitBodies(c, next) {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const isBulk = c.req.method === "PATCH" && BULK_PATH.test(c.req.path);
    return (isBulk ? bulk : standard)(c, next);
  };

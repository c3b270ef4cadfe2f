// Requests that carry a body must say it is JSON; anything else is 415.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";

const JSON_TYPE = /^application\/json\s*(;|$)/i;

export const requireJsonBody = () =>
  createMiddleware<AppEnv>(async function requireJsonBody(c, next) {
    if (c.req.method === "POST" || c.req.method === "PUT" || c.req.method === "PATCH") {
      const type = c.req.header("Content-Type");
      const length = c.req.header("Content-Length");
      const hasBody = type !== undefined || (length !== undefined && length !== "0");
      if (hasBody && !JSON_TYPE.test(type ?? "")) {
        throw new AppError("unsupported_media_type", "request bodies must be application/json");
      }
    }
    await next();
  });

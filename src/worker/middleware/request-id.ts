// Gives every request an id, answered in X-Request-Id (errors included).
import { createMiddleware } from "hono/factory";
import { newId } from "../crypto/ids.js";
import type { AppEnv } from "../env.js";

export const requestId = () =>
  createMiddleware<AppEnv>(async function requestId(c, next) {
    const id = newId("req");
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
    c.res.headers.set("X-Request-Id", id);
  });

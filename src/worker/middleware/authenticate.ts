// Bearer authentication for /v1 routes. Every failure is the same 401.
import { createMiddleware } from "hono/factory";
import { verifyApiToken } from "../auth/api-token.js";
import { openDb } from "../db/client.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";

export const authenticate = () =>
  createMiddleware<AppEnv>(async function authenticate(c, next) {
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await verifyApiToken(openDb(c.env.DB), match[1]!, Date.now()) : null;
    if (!principal) {
      c.header("WWW-Authenticate", 'Bearer realm="qala"');
      throw new AppError("unauthorized", "a valid API token is required");
    }
    c.set("principal", principal);
    await next();
  });

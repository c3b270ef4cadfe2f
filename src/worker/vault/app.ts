// The Vault-compatible surface under /vault: Vault's paths, JSON shapes,
// status codes and `{"errors": [...]}`, authenticated by `X-Vault-Token` (a
// Qalá token): Transit, and the KV v2 engine with each project as a mount.
import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_STATUS } from "../../contract/index.js";
import type { AppEnv } from "../env.js";
import { KeyProviderError } from "../key-providers/index.js";
import { AppError } from "../errors.js";
import { fromApiToken } from "../middleware/authenticate.js";
import { limitBodies } from "../middleware/body-limit.js";
import { kvRoutes } from "./kv.js";
import { healthRoute, tokenRoutes } from "./sys.js";
import { transitRoutes } from "./transit.js";

/** Vault's error body; the status is ours (Vault uses the same 400/403/404/5xx). */
export function vaultError(c: Context<AppEnv>, error: unknown) {
  if (error instanceof AppError) {
    const status = ERROR_STATUS[error.code] as ContentfulStatusCode;
    // Vault says 403 "permission denied" both for a bad token and a missing permission.
    const message = error.code === "unauthorized" ? "permission denied" : error.message;
    return c.json({ errors: [message] }, status === 401 ? 403 : status);
  }
  if (error instanceof KeyProviderError) {
    console.error("key provider", error.message, c.get("requestId"));
    return c.json({ errors: ["the key provider is unavailable"] }, 503);
  }
  console.error("vault route failed", error instanceof Error ? error.name : "error");
  return c.json({ errors: ["internal error"] }, 500);
}

export function vaultApp() {
  const vault = new Hono<AppEnv>();
  vault.use("*", limitBodies());
  vault.route("/", healthRoute); // before the token check: Vault's health probe needs none
  vault.use("/v1/*", async (c, next) => {
    const header =
      c.req.header("X-Vault-Token") ??
      /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
    if (!header) throw new AppError("unauthorized", "missing client token");
    c.set("principal", await fromApiToken(c, header));
    await next();
  });
  vault.route("/", tokenRoutes);
  vault.route("/", transitRoutes);
  vault.route("/", kvRoutes);
  vault.notFound((c) => c.json({ errors: [] }, 404));
  vault.onError((error, c) => vaultError(c, error));
  return vault;
}

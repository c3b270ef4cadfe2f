// The Hono app: middleware, routes, the OpenAPI document and the error envelope.
import { swaggerUI } from "@hono/swagger-ui";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorEnvelope } from "./error-envelope.js";
import { jwks } from "./payload-encryption.js";
import type { AppEnv } from "./env.js";
import { AppError } from "./errors.js";
import { authenticate } from "./middleware/authenticate.js";
import { limitBodies } from "./middleware/body-limit.js";
import { requireJsonBody } from "./middleware/content-type.js";
import { requestId } from "./middleware/request-id.js";
import { adminRoutes } from "./routes/admin.js";
import { auditRoutes } from "./routes/audit.js";
import { authRoutes } from "./routes/auth.js";
import { keyRoutes } from "./routes/keys.js";
import { bootstrapRoutes } from "./routes/bootstrap.js";
import { memberRoutes } from "./routes/members.js";
import { ssoRoutes } from "./routes/sso.js";
import { tokenRoutes } from "./routes/tokens.js";
import { userRoutes } from "./routes/users.js";
import { exportRoutes } from "./routes/export.js";
import { VERSION, health } from "./routes/health.js";
import { projectRoutes } from "./routes/projects.js";
import { secretRoutes } from "./routes/secrets.js";
import { secretVersionRoutes } from "./routes/secret-versions.js";
import { vaultApp } from "./vault/app.js";
import { KeyProviderError } from "./key-providers/index.js";

/** Routes that authenticate on their own terms (bootstrap token, credentials, ID tokens). */
const PUBLIC_PATHS = /^\/v1\/(bootstrap|auth\/(login|refresh|logout|oidc|sso\/[a-z]+))$/;

function render(c: Context<AppEnv>, error: AppError) {
  const { status, body, headers } = errorEnvelope(error, c.get("requestId") ?? "");
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json(body, status as ContentfulStatusCode);
}

/** HTTP errors raised by Hono itself (malformed JSON, ...), in our envelope. */
function fromHttpException(error: HTTPException): AppError {
  switch (error.status) {
    case 400:
      return new AppError("bad_request", "the request body is not valid JSON");
    case 413:
      return new AppError("payload_too_large", "the request body is too large");
    case 401:
      return new AppError("unauthorized", "a valid API token is required");
    default:
      return new AppError("internal_error", "internal error");
  }
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  app.use("*", requestId());
  // CORS headers matter only to browsers, which always send Origin; servers and the CLI skip the work.
  const corsHeaders = cors({
    origin: (origin, c: Context<AppEnv>) => {
      const allowed = (c.env.QALA_CORS_ORIGINS ?? "").split(",").map((o) => o.trim());
      return allowed.includes(origin) ? origin : null;
    },
    allowHeaders: [
      "Authorization",
      "Content-Type",
      "If-Match",
      "If-None-Match",
      "Qala-Response-Key",
    ],
    exposeHeaders: ["ETag", "X-Request-Id", "Retry-After", "Qala-Skipped-Keys"],
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
  });
  app.use("*", async (c, next) => (c.req.header("Origin") ? corsHeaders(c, next) : next()));

  app.use("/v1/*", requireJsonBody());
  app.use("/v1/*", limitBodies());
  const requireAuth = authenticate();
  app.use("/v1/*", async (c, next) =>
    PUBLIC_PATHS.test(c.req.path) ? next() : requireAuth(c, next),
  );

  app.route("/", health);
  app.route("/", bootstrapRoutes);
  app.route("/", projectRoutes);
  app.route("/", secretRoutes);
  app.route("/", secretVersionRoutes);
  app.route("/", exportRoutes);
  app.route("/", authRoutes);
  app.route("/", userRoutes);
  app.route("/", memberRoutes);
  app.route("/", tokenRoutes);
  app.route("/", ssoRoutes);
  app.route("/", adminRoutes);
  app.route("/", auditRoutes);
  app.route("/", keyRoutes);
  app.route("/vault", vaultApp());

  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: { title: "Qalá", version: VERSION, description: "Secrets manager on Cloudflare's edge" },
    servers: [{ url: c.env.QALA_ISSUER ?? new URL(c.req.url).origin }],
  }));
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });
  app.get("/docs", swaggerUI({ url: "/openapi.json" }));
  app.get("/.well-known/jwks.json", async (c) => c.json(await jwks(c.env)));

  app.notFound((c) => render(c, new AppError("not_found", "no such route")));
  app.onError((error, c) => {
    if (error instanceof AppError) {
      // A failed decryption means tampering or a lost key: operators must see it.
      if (error.code === "integrity_error") {
        const cause = error.cause instanceof Error ? error.cause.message : "";
        console.error("integrity_error", c.get("requestId"), c.req.path, cause);
      }
      return render(c, error);
    }
    if (error instanceof HTTPException) return render(c, fromHttpException(error));
    if (error instanceof KeyProviderError) {
      console.error("key provider", error.message, c.get("requestId"));
      return render(c, new AppError("unavailable", "the key provider is unavailable"));
    }
    // Unknown errors become a bare 500; only the error's class name is logged,
    // since a message could quote input.
    console.error("unhandled error", error.name, c.get("requestId"));
    return render(c, new AppError("internal_error", "internal error"));
  });
  return app;
}

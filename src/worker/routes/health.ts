// GET /health: liveness and version.
import { createRoute, z } from "@hono/zod-openapi";
import { json, newRouter } from "./router.js";

export const VERSION = "0.1.0";

export const health = newRouter().openapi(
  createRoute({
    method: "get",
    path: "/health",
    responses: {
      200: json(z.object({ status: z.literal("ok"), version: z.string() }), "the service is up"),
    },
  }),
  (c) => c.json({ status: "ok" as const, version: VERSION }, 200),
);

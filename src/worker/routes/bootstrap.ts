// POST /v1/bootstrap: the first admin and an instance-admin API token, once.
import { createRoute } from "@hono/zod-openapi";
import { BootstrapBodySchema, BootstrapResultSchema } from "../../contract/index.js";
import { bootstrap } from "../services/bootstrap.js";
import { db, errorResponse, json, jsonBody, newRouter, noStore } from "./router.js";

export const bootstrapRoutes = newRouter().openapi(
  createRoute({
    method: "post",
    path: "/v1/bootstrap",
    request: { body: jsonBody(BootstrapBodySchema) },
    responses: {
      201: json(BootstrapResultSchema, "the first admin and its API token (shown once)"),
      401: errorResponse,
      409: errorResponse,
    },
  }),
  async (c) => {
    const result = await bootstrap(
      { db: db(c), bootstrapToken: c.env.QALA_BOOTSTRAP_TOKEN, now: Date.now },
      c.req.valid("json"),
    );
    noStore(c);
    return c.json(result, 201);
  },
);

// POST /v1/bootstrap: the first admin, a session and an instance-admin API token, once.
import { createRoute, z } from "@hono/zod-openapi";
import { BootstrapBodySchema, UserSchema } from "../../contract/index.js";
import { findBootstrapMarker } from "../db/identity.js";
import { AppError } from "../errors.js";
import { bootstrap } from "../services/bootstrap.js";
import {
  errorResponse,
  instanceAction,
  json,
  jsonBody,
  jwtDeps,
  newRouter,
  noStore,
} from "./router.js";

const BootstrapResultSchema = z.object({
  user: UserSchema,
  access_token: z.string(),
  refresh_token: z.string(),
  api_token: z.string(),
});

export const bootstrapRoutes = newRouter().openapi(
  createRoute({
    method: "post",
    path: "/v1/bootstrap",
    request: { body: jsonBody(BootstrapBodySchema) },
    responses: {
      201: json(BootstrapResultSchema, "the first admin, a session and an API token (shown once)"),
      401: errorResponse,
      409: errorResponse,
    },
  }),
  async (c) => {
    const deps = { ...jwtDeps(c), bootstrapToken: c.env.QALA_BOOTSTRAP_TOKEN };
    if (await findBootstrapMarker(deps.db)) {
      throw new AppError("conflict", "this instance is already bootstrapped");
    }
    // Recorded before it happens: if the event cannot be stored, nothing is created
    // (a bootstrap whose answer was lost would leave an admin token nobody holds).
    const body = c.req.valid("json");
    const result = await instanceAction(c, "bootstrap", body.email, () => bootstrap(deps, body));
    noStore(c);
    return c.json(result, 201);
  },
);

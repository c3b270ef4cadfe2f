// Instance administration: server key rotation.
import { createRoute, z } from "@hono/zod-openapi";
import { rotateSigningKey } from "../services/server-keys.js";
import { ERRORS, db, json, newRouter, requireInstanceAdmin } from "./router.js";

export const adminRoutes = newRouter().openapi(
  createRoute({
    method: "post",
    path: "/v1/admin/signing-keys/rotate",
    responses: {
      200: json(z.object({ kid: z.string() }), "the new signing key's id"),
      ...ERRORS,
    },
  }),
  async (c) => {
    requireInstanceAdmin(c);
    return c.json(await rotateSigningKey(db(c), c.env.QALA_MASTER_KEY), 200);
  },
);

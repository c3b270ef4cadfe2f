// Instance administration: server key rotation.
import { createRoute, z } from "@hono/zod-openapi";
import { rotateSigningKey } from "../services/server-keys.js";
import { ERRORS, db, instanceAction, json, newRouter, requireInstanceAdmin } from "./router.js";

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
    const rotated = await instanceAction(c, "key.rotate", "jwt", () =>
      rotateSigningKey(db(c), c.env.QALA_MASTER_KEY),
    );
    return c.json(rotated, 200);
  },
);

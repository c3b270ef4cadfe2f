// Instance administration: server key rotation and the master-key re-wrap job.
import { createRoute, z } from "@hono/zod-openapi";
import { settle } from "../durable/coordinator-client.js";
import { instanceCoordinator } from "../services/instance-audit.js";
import { masterKeyStatus } from "../services/master-key.js";
import { rotateSigningKey } from "../services/server-keys.js";
import {
  ERRORS,
  db,
  errorResponse,
  instanceAction,
  json,
  newRouter,
  requireInstanceAdmin,
} from "./router.js";
import { keySource } from "../key-providers/index.js";

const RewrapJobSchema = z.object({
  id: z.string(),
  state: z.enum(["running", "done"]),
  rewrapped: z.number().int(),
  projects: z.number().int(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
});

export const adminRoutes = newRouter()
  .openapi(
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
        rotateSigningKey(db(c), keySource(c.env)),
      );
      return c.json(rotated, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/admin/master-key/rewrap",
      responses: {
        202: json(z.object({ job: z.string() }), "the re-wrap job, running"),
        409: errorResponse,
        ...ERRORS,
      },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const started = await instanceAction(c, "master_key.rewrap", null, () =>
        settle(instanceCoordinator(c.env).startRewrap()),
      );
      return c.json(started, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/admin/master-key",
      responses: {
        200: json(
          z.object({
            active: z.string(),
            in_use: z.array(z.string()).describe("master keys that still wrap a key"),
            job: RewrapJobSchema.nullable().describe("the latest re-wrap job"),
          }),
          "which master keys are still needed",
        ),
        ...ERRORS,
      },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const job = await settle(instanceCoordinator(c.env).rewrapJob());
      const status = await masterKeyStatus(db(c), keySource(c.env));
      const view = job && {
        id: job.id,
        state: job.state,
        rewrapped: job.rewrapped,
        projects: job.projects,
        started_at: job.started_at,
        finished_at: job.finished_at,
      };
      return c.json({ ...status, job: view }, 200);
    },
  );

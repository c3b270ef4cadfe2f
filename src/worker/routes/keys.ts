// A project's KEKs: listing (never material), rotation as a job, the job's state.
import { createRoute, z } from "@hono/zod-openapi";
import { SlugSchema } from "../../contract/index.js";
import { projectKeks } from "../db/keys.js";
import { listEnvironments } from "../db/projects.js";
import { settle } from "../durable/coordinator-client.js";
import {
  ERRORS,
  ProjectParams,
  audit,
  db,
  errorResponse,
  json,
  jsonBody,
  newRouter,
  projectFor,
  unpaged,
  unpagedSchema,
} from "./router.js";

const KeySchema = z.object({
  environment: z.string(),
  id: z.string(),
  version: z.number(),
  state: z.enum(["active", "retired", "destroyed"]),
  created_at: z.string(),
});
const JobSchema = z.object({
  id: z.string(),
  state: z.enum(["running", "done", "failed"]),
  done: z.number(),
  total: z.number(),
});

export const keyRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/keys",
      request: { params: ProjectParams },
      responses: { 200: json(unpagedSchema(KeySchema), "KEK versions per environment"), ...ERRORS },
    }),
    async (c) => {
      const { projectId } = await projectFor(
        c,
        c.req.valid("param").project,
        "keys:manage",
        "key.list",
      );
      const environments = await listEnvironments(db(c), projectId);
      const slugs = new Map(environments.map((e) => [e.id, e.slug]));
      const rows = await projectKeks(db(c), [...slugs.keys()]);
      const items = rows.map((k) => ({
        environment: slugs.get(k.scopeId)!,
        id: k.id,
        version: k.version,
        state: k.state,
        created_at: k.createdAt,
      }));
      return c.json(unpaged(items), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/projects/{project}/keys/rotate",
      request: {
        params: ProjectParams,
        body: {
          ...jsonBody(z.strictObject({ environment: SlugSchema.optional() })),
          required: false,
        },
      },
      responses: {
        202: json(z.object({ job: z.string() }), "the re-wrap job"),
        409: errorResponse,
        ...ERRORS,
      },
    }),
    async (c) => {
      const ref = c.req.valid("param").project;
      const body = (c.req.header("Content-Type") ? c.req.valid("json") : {}) as {
        environment?: string;
      };
      const { projectId, stub } = await projectFor(c, ref, "keys:manage");
      const result = await settle(
        stub.rotateKeys(
          { projectId, environment: body.environment },
          audit(c, body.environment ?? null),
        ),
      );
      return c.json(result, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/keys/jobs/{job}",
      request: { params: ProjectParams.extend({ job: z.string().regex(/^job_[a-z2-7]+$/) }) },
      responses: { 200: json(JobSchema, "the job"), ...ERRORS },
    }),
    async (c) => {
      const { project, job } = c.req.valid("param");
      const { stub } = await projectFor(c, project, "keys:manage", "key.job");
      return c.json(await settle(stub.rotationJob({ job })), 200);
    },
  );

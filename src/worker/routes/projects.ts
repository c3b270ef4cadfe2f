// Projects and their environments.
import { createRoute, z } from "@hono/zod-openapi";
import {
  CreateEnvironmentBodySchema,
  CreateProjectBodySchema,
  EnvironmentSchema,
  ListQuerySchema,
  ProjectSchema,
  UpdateProjectBodySchema,
  listSchema,
} from "../../contract/index.js";
import { listEnvironments, listProjects } from "../db/projects.js";
import { settle } from "../durable/coordinator-client.js";
import { createProject, environmentView, projectView } from "../services/projects.js";
import { decodeCursor, page } from "../services/pagination.js";
import { requireProject } from "../services/scope.js";
import {
  ERRORS,
  EnvParams,
  ProjectParams,
  db,
  errorResponse,
  json,
  jsonBody,
  newRouter,
  projectCoordinator,
} from "./router.js";

const noContent = { description: "done" };

export const projectRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/projects",
      request: { body: jsonBody(CreateProjectBodySchema) },
      responses: { 201: json(ProjectSchema, "the project"), 409: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const deps = { db: db(c), masterKey: c.env.QALA_MASTER_KEY, now: Date.now };
      return c.json(await createProject(deps, c.req.valid("json")), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects",
      request: { query: ListQuerySchema },
      responses: { 200: json(listSchema(ProjectSchema), "projects"), ...ERRORS },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const rows = await listProjects(db(c), limit, decodeCursor<string>(cursor, "string"));
      return c.json(
        page(
          rows,
          limit,
          (p) => projectView(p),
          (p) => p.slug,
        ),
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}",
      request: { params: ProjectParams },
      responses: { 200: json(ProjectSchema, "the project"), ...ERRORS },
    }),
    async (c) => {
      const project = await requireProject(db(c), c.req.valid("param").project);
      return c.json(projectView(project, await listEnvironments(db(c), project.id)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/v1/projects/{project}",
      request: { params: ProjectParams, body: jsonBody(UpdateProjectBodySchema) },
      responses: { 200: json(ProjectSchema, "the project"), ...ERRORS },
    }),
    async (c) => {
      const { projectId, stub } = await projectCoordinator(c, c.req.valid("param").project);
      const updated = await settle(stub.updateProject({ projectId, ...c.req.valid("json") }));
      return c.json(updated, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/projects/{project}",
      request: { params: ProjectParams },
      responses: { 204: noContent, ...ERRORS },
    }),
    async (c) => {
      const { projectId, stub } = await projectCoordinator(c, c.req.valid("param").project);
      await settle(stub.deleteProject({ projectId }));
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/projects/{project}/environments",
      request: { params: ProjectParams, body: jsonBody(CreateEnvironmentBodySchema) },
      responses: { 201: json(EnvironmentSchema, "the environment"), 409: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const { projectId, stub } = await projectCoordinator(c, c.req.valid("param").project);
      const environment = await settle(
        stub.createEnvironment({ projectId, ...c.req.valid("json") }),
      );
      return c.json(environment, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/environments",
      request: { params: ProjectParams },
      responses: { 200: json(listSchema(EnvironmentSchema), "environments"), ...ERRORS },
    }),
    async (c) => {
      const project = await requireProject(db(c), c.req.valid("param").project);
      const rows = await listEnvironments(db(c), project.id);
      return c.json({ items: rows.map(environmentView), next_cursor: null }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/projects/{project}/environments/{env}",
      request: {
        params: EnvParams,
        query: z.object({ force: z.enum(["true", "false"]).optional() }),
      },
      responses: { 204: noContent, 409: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const { project: ref, env } = c.req.valid("param");
      const { projectId, stub } = await projectCoordinator(c, ref);
      await settle(
        stub.deleteEnvironment({
          projectId,
          environment: env,
          force: c.req.valid("query").force === "true",
        }),
      );
      return c.body(null, 204);
    },
  );

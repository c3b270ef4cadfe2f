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
import { allowedBy } from "../auth/client-address.js";
import { seesEnvironment } from "../auth/permissions.js";
import { isInstanceAdmin } from "../auth/principal.js";
import { listEnvironments } from "../db/projects.js";
import { coordinator, settle } from "../durable/coordinator-client.js";
import { AppError } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { checkSettings, environmentView, projectView } from "../services/projects.js";
import { visibleProjects } from "../services/project-list.js";
import {
  ERRORS,
  EnvParams,
  ProjectParams,
  audit,
  caller,
  db,
  environmentFor,
  errorResponse,
  json,
  jsonBody,
  newRouter,
  projectFor,
  unpaged,
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
      const principal = c.get("principal");
      // People create projects (and own them); workloads and project tokens do not.
      if (principal.kind !== "user" && !isInstanceAdmin(principal)) {
        throw new AppError("forbidden", "only users and instance admins create projects");
      }
      const owner = principal.kind === "user" ? principal.id : null;
      const body = c.req.valid("json");
      checkSettings(body.settings);
      // A new project's id is chosen here, so its coordinator writes it (and its first audit event).
      const projectId = newId("prj");
      const project = await settle(
        coordinator(c.env, projectId).createProject(
          { projectId, ...body, owner },
          audit(c, body.slug),
        ),
      );
      return c.json(project, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects",
      request: { query: ListQuerySchema },
      responses: {
        200: json(listSchema(ProjectSchema), "the projects the caller can see"),
        ...ERRORS,
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json(await visibleProjects(db(c), c.get("principal"), limit, cursor), 200);
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
      const { project, access } = await projectFor(
        c,
        c.req.valid("param").project,
        "project:read",
        "project.read",
      );
      const environments = (await listEnvironments(db(c), project.id)).filter((e) =>
        seesEnvironment(access, e.slug),
      );
      return c.json(projectView(project, environments), 200);
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
      const { projectId, stub } = await projectFor(
        c,
        c.req.valid("param").project,
        "project:manage",
      );
      const body = c.req.valid("json");
      const allowlist = body.settings?.ip_allowlist;
      if (allowlist?.length && !allowedBy(allowlist, caller(c).address)) {
        throw new AppError("validation_failed", "this allowlist would lock you out", {
          details: [{ path: ["settings", "ip_allowlist"], message: "excludes your address" }],
        });
      }
      const updated = await settle(stub.updateProject({ projectId, ...body }, audit(c, null)));
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
      const { projectId, stub } = await projectFor(
        c,
        c.req.valid("param").project,
        "project:delete",
      );
      await settle(stub.deleteProject({ projectId }, audit(c, null)));
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
      const ref = c.req.valid("param").project;
      const { projectId, stub } = await projectFor(c, ref, "environments:manage");
      const environment = await settle(
        stub.createEnvironment(
          { projectId, ...c.req.valid("json") },
          audit(c, c.req.valid("json").slug),
        ),
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
      const { project, access } = await projectFor(
        c,
        c.req.valid("param").project,
        "project:read",
        "environment.list",
      );
      const rows = (await listEnvironments(db(c), project.id)).filter((e) =>
        seesEnvironment(access, e.slug),
      );
      return c.json(unpaged(rows.map(environmentView)), 200);
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
      const scope = await environmentFor(c, c.req.valid("param"), "environments:manage");
      await settle(
        coordinator(c.env, scope.project.id).deleteEnvironment(
          {
            projectId: scope.project.id,
            environment: scope.environment.id,
            force: c.req.valid("query").force === "true",
          },
          audit(c, scope.environment.slug),
        ),
      );
      return c.body(null, 204);
    },
  );

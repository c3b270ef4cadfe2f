// Project access: members (grants to users and teams), custom roles, and the access review.
import { createRoute, z } from "@hono/zod-openapi";
import {
  CreateRoleBodySchema,
  GrantBodySchema,
  PermissionSchema,
  isBuiltInRole,
} from "../../contract/index.js";
import { projectGrants, projectRoles, findTeam } from "../db/access.js";
import { findUser } from "../db/identity.js";
import { settle } from "../durable/coordinator-client.js";
import { AppError } from "../errors.js";
import { checkGrantable } from "../services/access-admin.js";
import { accessReview } from "../services/access-review.js";
import { grantView } from "../services/access-writes.js";
import {
  ERRORS,
  ProjectParams,
  actor,
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

const MemberParams = ProjectParams.extend({
  member: z.string().regex(/^(usr|team)_[a-z2-7]+$/, "a user id (usr_…) or team id (team_…)"),
});
const GrantSchema = z.object({
  subject: z.object({ kind: z.enum(["user", "team"]), id: z.string() }),
  role: z.string(),
  environments: z.array(z.string()).nullable(),
  expires_at: z.string().nullable(),
  created_at: z.string(),
  created_by: z.string().nullable(),
});
const RoleSchema = z.object({
  id: z.string(),
  name: z.string(),
  permissions: z.array(PermissionSchema),
});
const ReviewSchema = z.object({ items: z.array(z.record(z.string(), z.unknown())) });

const subjectOf = (member: string) =>
  member.startsWith("usr_") ? ("user" as const) : ("team" as const);

export const memberRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/members",
      request: { params: ProjectParams },
      responses: {
        200: json(unpagedSchema(GrantSchema), "grants"),
        ...ERRORS,
      },
    }),
    async (c) => {
      const { projectId } = await projectFor(
        c,
        c.req.valid("param").project,
        "project:read",
        "member.list",
      );
      const grants = await projectGrants(db(c), projectId);
      return c.json(unpaged(grants.map(grantView)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/projects/{project}/members/{member}",
      request: { params: MemberParams, body: jsonBody(GrantBodySchema) },
      responses: { 200: json(GrantSchema, "the grant"), 403: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const { project, member } = c.req.valid("param");
      const body = c.req.valid("json");
      const { projectId, stub, access } = await projectFor(c, project, "members:manage");
      const kind = subjectOf(member);
      const exists =
        kind === "user" ? await findUser(db(c), member) : await findTeam(db(c), member);
      if (!exists) throw new AppError("not_found", `${kind} not found`);
      const spec = {
        role: body.role,
        permissions: null,
        environments: body.environments ?? null,
        expiresAt: body.expires_at ? new Date(Date.parse(body.expires_at)).toISOString() : null,
      };
      await checkGrantable(db(c), projectId, access, spec);
      const grant = await settle(
        stub.putGrant(
          {
            projectId,
            subjectKind: kind,
            subjectId: member,
            ...spec,
            actor: actor(c),
          },
          audit(c, member),
        ),
      );
      return c.json(grant, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/projects/{project}/members/{member}",
      request: { params: MemberParams },
      responses: { 204: { description: "revoked" }, ...ERRORS },
    }),
    async (c) => {
      const { project, member } = c.req.valid("param");
      const { projectId, stub } = await projectFor(c, project, "members:manage");
      await settle(
        stub.removeGrant(
          { projectId, subjectKind: subjectOf(member), subjectId: member },
          audit(c, member),
        ),
      );
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/roles",
      request: { params: ProjectParams },
      responses: {
        200: json(unpagedSchema(RoleSchema), "custom roles"),
        ...ERRORS,
      },
    }),
    async (c) => {
      const { projectId } = await projectFor(
        c,
        c.req.valid("param").project,
        "project:read",
        "role.list",
      );
      const rows = await projectRoles(db(c), projectId);
      const items = rows.map((r) => ({
        id: r.id,
        name: r.name,
        permissions: JSON.parse(r.permissions),
      }));
      return c.json(unpaged(items), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/projects/{project}/roles",
      request: { params: ProjectParams, body: jsonBody(CreateRoleBodySchema) },
      responses: { 201: json(RoleSchema, "the role"), 409: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const body = c.req.valid("json");
      if (isBuiltInRole(body.name)) {
        throw new AppError("conflict", `${body.name} is a built-in role`);
      }
      const { projectId, stub } = await projectFor(
        c,
        c.req.valid("param").project,
        "members:manage",
      );
      return c.json(await settle(stub.addRole({ projectId, ...body }, audit(c, body.name))), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/access-review",
      request: { params: ProjectParams },
      responses: {
        200: json(ReviewSchema, "every subject and its effective permissions"),
        ...ERRORS,
      },
    }),
    async (c) => {
      const { projectId } = await projectFor(
        c,
        c.req.valid("param").project,
        "members:manage",
        "access.review",
      );
      return c.json(await accessReview(db(c), projectId), 200);
    },
  );

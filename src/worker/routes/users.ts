// Users and teams (instance admins only).
import { createRoute, z } from "@hono/zod-openapi";
import {
  CreateTeamBodySchema,
  CreateUserBodySchema,
  ListQuerySchema,
} from "../../contract/index.js";
import { nowIso } from "../db/client.js";
import { addTeamMember, findTeam, insertTeam, listTeams, removeTeamMember } from "../db/access.js";
import { AppError } from "../errors.js";
import { isUniqueViolation } from "../db/client.js";
import { newId } from "../crypto/ids.js";
import { createUser, disable, listUserPage, requireUser, userView } from "../services/users.js";
import {
  ERRORS,
  actor,
  db,
  errorResponse,
  json,
  jsonBody,
  newRouter,
  instanceAction,
  readDeps,
  requireInstanceAdmin,
  unpaged,
  unpagedSchema,
} from "./router.js";

const UserView = z.record(z.string(), z.unknown());
const UserParams = z.object({ id: z.string().regex(/^usr_[a-z2-7]+$/) });
const TeamParams = z.object({ team: z.string().regex(/^team_[a-z2-7]+$/) });
const TeamMemberParams = TeamParams.extend({ user: z.string().regex(/^usr_[a-z2-7]+$/) });
const TeamSchema = z.object({ id: z.string(), name: z.string(), created_at: z.string() });

async function requireTeam(c: Parameters<typeof db>[0], id: string) {
  const team = await findTeam(db(c), id);
  if (!team) throw new AppError("not_found", "team not found");
  return team;
}

export const userRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/users",
      request: { body: jsonBody(CreateUserBodySchema) },
      responses: {
        201: json(UserView, "the user"),
        403: errorResponse,
        409: errorResponse,
        ...ERRORS,
      },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const body = c.req.valid("json");
      const user = await instanceAction(c, "user.create", body.email, () =>
        createUser(readDeps(c), body),
      );
      return c.json(userView(user), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/users",
      request: { query: ListQuerySchema },
      responses: {
        200: json(
          z.object({ items: z.array(UserView), next_cursor: z.string().nullable() }),
          "users",
        ),
        ...ERRORS,
      },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const { limit, cursor } = c.req.valid("query");
      return c.json(await listUserPage(db(c), limit, cursor), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/users/{id}",
      request: { params: UserParams },
      responses: { 204: { description: "disabled; every session ended" }, ...ERRORS },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const id = c.req.valid("param").id;
      const actorId = c.get("principal").kind === "user" ? actor(c) : "";
      await instanceAction(c, "user.disable", id, () => disable(db(c), id, actorId));
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/teams",
      request: { body: jsonBody(CreateTeamBodySchema) },
      responses: { 201: json(TeamSchema, "the team"), 409: errorResponse, ...ERRORS },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const team = { id: newId("team"), name: c.req.valid("json").name, createdAt: nowIso() };
      const insert = async () => {
        try {
          await insertTeam(db(c), team);
        } catch (error) {
          if (isUniqueViolation(error))
            throw new AppError("conflict", "a team with this name exists");
          throw error;
        }
      };
      await instanceAction(c, "team.create", team.id, insert, { name: team.name });
      return c.json({ id: team.id, name: team.name, created_at: team.createdAt }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/teams",
      responses: {
        200: json(unpagedSchema(TeamSchema), "teams"),
        ...ERRORS,
      },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const rows = await listTeams(db(c));
      const items = rows.map((t) => ({ id: t.id, name: t.name, created_at: t.createdAt }));
      return c.json(unpaged(items), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/v1/teams/{team}/members/{user}",
      request: { params: TeamMemberParams },
      responses: { 204: { description: "added" }, ...ERRORS },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const { team, user } = c.req.valid("param");
      await requireTeam(c, team);
      await requireUser(db(c), user);
      await instanceAction(
        c,
        "team.member.add",
        team,
        () => addTeamMember(db(c), team, user, nowIso()),
        {
          user,
        },
      );
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/teams/{team}/members/{user}",
      request: { params: TeamMemberParams },
      responses: { 204: { description: "removed" }, ...ERRORS },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const { team, user } = c.req.valid("param");
      await requireTeam(c, team);
      await instanceAction(
        c,
        "team.member.remove",
        team,
        () => removeTeamMember(db(c), team, user),
        {
          user,
        },
      );
      return c.body(null, 204);
    },
  );

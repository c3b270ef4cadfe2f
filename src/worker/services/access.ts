// Resolves what a principal may do on a project and enforces it: 404 for what
// the caller may not see (no grant on the project, an environment outside every
// grant), 403 for a grant that lacks the permission or an address outside the
// project's allowlist.
import { isBuiltInRole, type Permission, type ProjectSettings } from "../../contract/index.js";
import { parseJson } from "../auth/api-token.js";
import { allowedBy } from "../auth/client-address.js";
import {
  can,
  seesEnvironment,
  seesProject,
  type CustomRoles,
  type ProjectAccess,
} from "../auth/permissions.js";
import { isInstanceAdmin, type GrantSpec, type Principal } from "../auth/principal.js";
import { nowIso, type Db } from "../db/client.js";
import { projectRoles, userGrants, type GrantRow } from "../db/access.js";
import { findEnvironmentScope, findProject, type ProjectRow } from "../db/projects.js";
import { AppError } from "../errors.js";
import type { EnvironmentScope } from "./scope.js";

export const grantSpecOf = (row: GrantRow): GrantSpec => ({
  role: row.role,
  permissions: null,
  environments: parseJson<string[]>(row.environments),
  expiresAt: row.expiresAt,
});

export async function customRoles(db: Db, projectId: string): Promise<CustomRoles> {
  const rows = await projectRoles(db, projectId);
  return new Map(rows.map((r) => [r.name, JSON.parse(r.permissions) as Permission[]]));
}

const live = (g: GrantSpec, now: number) => !g.expiresAt || Date.parse(g.expiresAt) > now;

export async function projectAccess(
  db: Db,
  principal: Principal,
  projectId: string,
  now: number = Date.now(),
): Promise<ProjectAccess> {
  if (isInstanceAdmin(principal)) return { everything: true, grants: [], roles: new Map() };
  let grants: GrantSpec[];
  if (principal.kind === "user") {
    grants = (await userGrants(db, projectId, principal.id, nowIso(now))).map(grantSpecOf);
  } else {
    grants = principal.projectId === projectId && principal.grant ? [principal.grant] : [];
  }
  grants = grants.filter((g) => live(g, now));
  const needsRoles = grants.some((g) => g.role !== null && !isBuiltInRole(g.role));
  return {
    everything: false,
    grants,
    roles: needsRoles ? await customRoles(db, projectId) : new Map(),
  };
}

export interface Caller {
  principal: Principal;
  address: string | null;
}

/** A refusal on a project that exists: its coordinator records it in the project's chain. */
export class AccessDenied extends AppError {
  constructor(
    code: "not_found" | "forbidden",
    message: string,
    readonly projectId: string,
  ) {
    super(code, message);
  }
}

const notFound = (what: string) => new AppError("not_found", `${what} not found`);
const hidden = (what: string, projectId: string) =>
  new AccessDenied("not_found", `${what} not found`, projectId);
const forbidden = (permission: Permission, projectId: string) =>
  new AccessDenied("forbidden", `this needs the ${permission} permission`, projectId);

function checkAddress(project: ProjectRow, caller: Caller) {
  const settings = JSON.parse(project.settings) as ProjectSettings;
  if (!allowedBy(settings.ip_allowlist ?? null, caller.address)) {
    throw new AccessDenied(
      "forbidden",
      "this project may not be reached from this address",
      project.id,
    );
  }
}

/** The project, if the caller may see it and holds `permission` on it. */
export async function authorizeProject(
  db: Db,
  caller: Caller,
  ref: string,
  permission: Permission,
): Promise<{ project: ProjectRow; access: ProjectAccess }> {
  const project = await findProject(db, ref);
  if (!project) throw notFound("project");
  const access = await projectAccess(db, caller.principal, project.id);
  if (!seesProject(access)) throw hidden("project", project.id);
  checkAddress(project, caller);
  if (!can(access, permission)) throw forbidden(permission, project.id);
  return { project, access };
}

/** The environment, if the caller may see it and holds `permission` in it. */
export async function authorizeEnvironment(
  db: Db,
  caller: Caller,
  projectRef: string,
  environmentRef: string,
  permission: Permission,
): Promise<EnvironmentScope & { access: ProjectAccess }> {
  const scope = await findEnvironmentScope(db, projectRef, environmentRef);
  if (!scope) {
    await authorizeProject(db, caller, projectRef, "project:read");
    throw notFound("environment");
  }
  const projectId = scope.project.id;
  const access = await projectAccess(db, caller.principal, projectId);
  if (!seesProject(access)) throw hidden("project", projectId);
  if (!seesEnvironment(access, scope.environment.slug)) throw hidden("environment", projectId);
  checkAddress(scope.project, caller);
  if (!can(access, permission, scope.environment.slug)) throw forbidden(permission, projectId);
  return { ...scope, access };
}

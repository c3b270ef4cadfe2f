// Effective permissions: the union of a principal's grants on a project, where
// a grant gives its role's permissions in the environments it covers.
// Pure: grants and custom roles come in, answers go out.
import {
  SECRET_PERMISSIONS,
  builtInPermissions,
  isBuiltInRole,
  type Permission,
} from "../../contract/index.js";
import type { GrantSpec } from "./principal.js";

export type CustomRoles = ReadonlyMap<string, readonly Permission[]>;

export interface ProjectAccess {
  /** Instance admins may do everything on every project. */
  readonly everything: boolean;
  readonly grants: readonly GrantSpec[];
  readonly roles: CustomRoles;
}

const covers = (grant: GrantSpec, environment: string) =>
  grant.environments === null || grant.environments.includes(environment);

/** The permissions one grant gives in `environment` (or on the project when undefined). */
export function grantPermissions(
  grant: GrantSpec,
  roles: CustomRoles,
  environment?: string,
): Set<Permission> {
  if (environment !== undefined && !covers(grant, environment)) return new Set();
  if (grant.permissions) return new Set(grant.permissions);
  if (grant.role && isBuiltInRole(grant.role)) {
    return new Set(builtInPermissions(grant.role, environment));
  }
  return new Set(grant.role ? (roles.get(grant.role) ?? []) : []);
}

/** Can the principal see the project at all (any live grant)? */
export const seesProject = (a: ProjectAccess) => a.everything || a.grants.length > 0;

/** Can the principal see the environment (a grant covers it)? Otherwise it does not exist for them. */
export const seesEnvironment = (a: ProjectAccess, environment: string) =>
  a.everything || a.grants.some((g) => covers(g, environment));

/**
 * Does the principal hold `permission`? Secret permissions are per environment.
 * Project-wide permissions (other than project:read) need a grant that is not
 * limited to some environments, so an environment-limited grant cannot manage
 * members or tokens of the whole project.
 */
export function can(a: ProjectAccess, permission: Permission, environment?: string): boolean {
  if (a.everything) return true;
  if (SECRET_PERMISSIONS.has(permission)) {
    if (environment === undefined) return false;
    return a.grants.some((g) => grantPermissions(g, a.roles, environment).has(permission));
  }
  return a.grants.some(
    (g) =>
      (permission === "project:read" || g.environments === null) &&
      grantPermissions(g, a.roles).has(permission),
  );
}

/** Every permission the principal holds in `environment` (or on the project). */
export function permissionsIn(a: ProjectAccess, environment?: string): Permission[] {
  const all = new Set<Permission>();
  for (const g of a.grants) {
    for (const p of grantPermissions(g, a.roles, environment)) {
      if (can({ everything: false, grants: [g], roles: a.roles }, p, environment)) all.add(p);
    }
  }
  return [...all].sort();
}

/**
 * Nobody can grant more than they hold: in every environment the new grant
 * covers, and on the project, its permissions must be a subset of the granter's.
 */
export function mayGrant(
  granter: ProjectAccess,
  grant: GrantSpec,
  projectEnvironments: readonly string[],
): boolean {
  if (granter.everything) return true;
  const within = (environment?: string) => {
    const held = new Set(permissionsIn(granter, environment));
    const given = permissionsIn(
      { everything: false, grants: [grant], roles: granter.roles },
      environment,
    );
    return given.every((p) => held.has(p));
  };
  const environments = grant.environments ?? projectEnvironments;
  return within() && environments.every((e) => within(e));
}

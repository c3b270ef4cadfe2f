// Permissions and built-in roles (DESIGN §4). Custom roles are sets of these.
import { z } from "zod";

export const PERMISSIONS = [
  "project:read",
  "project:manage",
  "project:delete",
  "environments:manage",
  "secrets:list",
  "secrets:read",
  "secrets:write",
  "secrets:delete",
  "secrets:rotate",
  "members:manage",
  "tokens:manage",
  "audit:read",
  "keys:manage",
  "transit:encrypt",
  "transit:decrypt",
  "transit:manage",
] as const;

export type Permission = (typeof PERMISSIONS)[number];
export const PermissionSchema = z.enum(PERMISSIONS);

/** Permissions that act on an environment's secrets; all others act on the whole project. */
export const SECRET_PERMISSIONS: ReadonlySet<Permission> = new Set([
  "secrets:list",
  "secrets:read",
  "secrets:write",
  "secrets:delete",
  "secrets:rotate",
]);

export const BUILT_IN_ROLES = ["owner", "admin", "developer", "viewer"] as const;
export type BuiltInRole = (typeof BUILT_IN_ROLES)[number];

const ALL = PERMISSIONS;
const PRODUCTION = "production";

/**
 * The permissions a built-in role gives in one environment (or, with
 * `environment` undefined, on the project itself).
 */
export function builtInPermissions(role: BuiltInRole, environment?: string): Permission[] {
  switch (role) {
    case "owner":
      return [...ALL];
    case "admin":
      return ALL.filter((p) => p !== "project:delete");
    case "developer":
      if (environment === undefined) return ["project:read"];
      return environment === PRODUCTION
        ? ["project:read", "secrets:list"]
        : ["project:read", "secrets:list", "secrets:read", "secrets:write", "secrets:delete"];
    case "viewer":
      return ["project:read", "secrets:list"];
  }
}

export const isBuiltInRole = (name: string): name is BuiltInRole =>
  (BUILT_IN_ROLES as readonly string[]).includes(name);

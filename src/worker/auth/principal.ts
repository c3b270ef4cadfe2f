// Who is calling, as authentication established it.
import type { Permission } from "../../contract/index.js";

/** A role or permission set, optionally limited to environments and time. */
export interface GrantSpec {
  role: string | null;
  permissions: Permission[] | null;
  /** Environment slugs, or null for every environment. */
  environments: string[] | null;
  expiresAt: string | null;
}

export type Principal =
  | { kind: "user"; id: string; name: string; instanceAdmin: boolean }
  | {
      kind: "token";
      id: string;
      name: string;
      instanceAdmin: boolean;
      /** The project a project token is scoped to (null for instance-admin tokens). */
      projectId: string | null;
      userId: string | null;
      grant: GrantSpec | null;
    }
  | {
      kind: "oidc";
      /** The trust policy that admitted the workload. */
      id: string;
      /** The ID token's subject. */
      name: string;
      projectId: string;
      grant: GrantSpec;
    };

/** The id recorded as `created_by` / `updated_by`. */
export const actorId = (p: Principal): string => p.id;

export const isInstanceAdmin = (p: Principal): boolean => p.kind !== "oidc" && p.instanceAdmin;

// Who is calling. Until role-based access control lands, only instance-admin
// API tokens exist and they may do everything.
export interface Principal {
  kind: "token";
  id: string;
  tokenKind: "admin";
  userId: string | null;
}

/** The id recorded as `created_by` / `updated_by`. */
export const actorId = (p: Principal): string => p.id;

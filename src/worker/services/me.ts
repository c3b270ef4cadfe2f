// GET /v1/me: the caller and the grants it holds.
import type { Principal } from "../auth/principal.js";
import { nowIso, type Db } from "../db/client.js";
import { allUserGrants } from "../db/access.js";
import { findProject } from "../db/projects.js";
import { grantSpecOf } from "./access.js";

export async function describeMe(db: Db, principal: Principal) {
  const me = {
    kind: principal.kind,
    id: principal.id,
    name: principal.name,
    instance_admin: principal.kind !== "oidc" && principal.instanceAdmin,
  };
  const grants: Record<string, unknown>[] = [];
  if (principal.kind === "user") {
    for (const grant of await allUserGrants(db, principal.id, nowIso())) {
      const project = await findProject(db, grant.projectId);
      const spec = grantSpecOf(grant);
      grants.push({
        project: project ? { id: project.id, slug: project.slug } : { id: grant.projectId },
        via: grant.subjectKind === "user" ? "direct" : `team:${grant.subjectId}`,
        role: spec.role,
        environments: spec.environments,
        expires_at: spec.expiresAt,
      });
    }
  } else if (principal.grant && principal.projectId) {
    const project = await findProject(db, principal.projectId);
    grants.push({
      project: project ? { id: project.id, slug: project.slug } : { id: principal.projectId },
      via: principal.kind,
      role: principal.grant.role,
      permissions: principal.grant.permissions,
      environments: principal.grant.environments,
      expires_at: principal.grant.expiresAt,
    });
  }
  return { principal: me, grants };
}

// Access review: every subject with a way into the project, and what it may do
// in each environment, with expiry and last use.
import { permissionsIn, type ProjectAccess } from "../auth/permissions.js";
import { grantOf } from "../auth/api-token.js";
import type { GrantSpec } from "../auth/principal.js";
import type { Permission } from "../../contract/index.js";
import { nowIso, type Db } from "../db/client.js";
import { projectGrants, projectTokens, projectTrusts, teamMemberIds } from "../db/access.js";
import { listEnvironments } from "../db/projects.js";
import { customRoles, grantSpecOf } from "./access.js";

interface ReviewItem {
  subject: { kind: "user" | "team" | "token" | "oidc"; id: string; name?: string };
  via: string[];
  project_permissions: Permission[];
  environments: Record<string, Permission[]>;
  expires_at: string | null;
  last_used_at: string | null;
}

export async function accessReview(db: Db, projectId: string): Promise<{ items: ReviewItem[] }> {
  const now = nowIso();
  const live = (g: { expiresAt: string | null }) => !g.expiresAt || g.expiresAt > now;
  const [roles, environments, grants, tokens, trusts] = await Promise.all([
    customRoles(db, projectId),
    listEnvironments(db, projectId).then((rows) => rows.map((e) => e.slug)),
    projectGrants(db, projectId),
    projectTokens(db, projectId),
    projectTrusts(db, projectId),
  ]);
  const describe = (
    subject: ReviewItem["subject"],
    specs: GrantSpec[],
    via: string[],
    lastUsed: string | null,
  ): ReviewItem => {
    const access: ProjectAccess = { everything: false, grants: specs, roles };
    const expiries = specs.map((s) => s.expiresAt);
    return {
      subject,
      via,
      project_permissions: permissionsIn(access),
      environments: Object.fromEntries(environments.map((e) => [e, permissionsIn(access, e)])),
      // The access lasts as long as its longest-lived grant.
      expires_at: expiries.includes(null) ? null : (expiries.sort().at(-1) ?? null),
      last_used_at: lastUsed,
    };
  };

  const items: ReviewItem[] = [];
  const byUser = new Map<string, { specs: GrantSpec[]; via: string[] }>();
  const add = (userId: string, spec: GrantSpec, via: string) => {
    const entry = byUser.get(userId) ?? { specs: [], via: [] };
    entry.specs.push(spec);
    entry.via.push(via);
    byUser.set(userId, entry);
  };
  for (const grant of grants.filter(live)) {
    const spec = grantSpecOf(grant);
    if (grant.subjectKind === "user") {
      add(grant.subjectId, spec, "direct");
    } else {
      items.push(describe({ kind: "team", id: grant.subjectId }, [spec], ["direct"], null));
      for (const member of await teamMemberIds(db, grant.subjectId)) {
        add(member.userId, spec, `team:${grant.subjectId}`);
      }
    }
  }
  for (const [userId, { specs, via }] of byUser) {
    items.push(describe({ kind: "user", id: userId }, specs, via, null));
  }
  for (const token of tokens.filter((t) => !t.revokedAt && live(t))) {
    const spec = grantOf(token);
    items.push(
      describe(
        { kind: "token", id: token.id, name: token.name },
        [spec],
        ["token"],
        token.lastUsedAt,
      ),
    );
  }
  for (const trust of trusts) {
    const spec = grantOf(trust);
    items.push(
      describe({ kind: "oidc", id: trust.id, name: trust.issuer }, [spec], ["oidc"], null),
    );
  }
  return { items };
}

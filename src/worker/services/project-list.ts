// The projects a principal can see: every project for instance admins, the
// projects a user holds unexpired grants on, the one project of a token or workload.
import type { Project } from "../../contract/index.js";
import { isInstanceAdmin, type Principal } from "../auth/principal.js";
import { nowIso, type Db } from "../db/client.js";
import { allUserGrants } from "../db/access.js";
import { findProject, listProjects } from "../db/projects.js";
import { decodeCursor, page } from "./pagination.js";
import { projectView } from "./projects.js";

export async function visibleProjects(
  db: Db,
  principal: Principal,
  limit: number,
  cursor?: string,
): Promise<{ items: Project[]; next_cursor: string | null }> {
  const after = decodeCursor<string>(cursor, "string");
  if (isInstanceAdmin(principal)) {
    return page(
      await listProjects(db, limit, after),
      limit,
      (p) => projectView(p),
      (p) => p.slug,
    );
  }
  const ids =
    principal.kind === "user"
      ? [...new Set((await allUserGrants(db, principal.id, nowIso())).map((g) => g.projectId))]
      : principal.projectId
        ? [principal.projectId]
        : [];
  const rows = (await Promise.all(ids.map((id) => findProject(db, id))))
    .filter((p) => p !== undefined)
    .filter((p) => after === undefined || p.slug > after)
    .sort((a, b) => a.slug.localeCompare(b.slug));
  return page(
    rows.slice(0, limit + 1),
    limit,
    (p) => projectView(p),
    (p) => p.slug,
  );
}

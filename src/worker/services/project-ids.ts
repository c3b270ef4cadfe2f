// Project slug → id, resolved once per isolate: slugs never change, and a
// project deleted and created again under the same slug is caught by its
// coordinator answering not_found, after which the entry is dropped.
import type { Db } from "../db/client.js";
import { findProject } from "../db/projects.js";

const MAX_ENTRIES = 10_000;
const ids = new Map<string, string>();

export async function projectIdOf(db: Db, ref: string): Promise<string | null> {
  if (ref.includes("_")) return ref;
  const hit = ids.get(ref);
  if (hit) return hit;
  const project = await findProject(db, ref);
  if (!project) return null;
  if (ids.size >= MAX_ENTRIES) ids.delete(ids.keys().next().value!);
  ids.set(ref, project.id);
  return project.id;
}

export const forgetProjectId = (ref: string) => ids.delete(ref);

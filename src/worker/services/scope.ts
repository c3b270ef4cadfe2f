// Resolves `:project` and `:env` path segments (slug or id) to rows, or 404.
import type { Db } from "../db/client.js";
import {
  findEnvironmentScope,
  findProject,
  type EnvironmentRow,
  type ProjectRow,
} from "../db/projects.js";
import { AppError } from "../errors.js";

export interface EnvironmentScope {
  project: ProjectRow;
  environment: EnvironmentRow;
}

export async function requireProject(db: Db, ref: string): Promise<ProjectRow> {
  const project = await findProject(db, ref);
  if (!project) throw new AppError("not_found", "project not found");
  return project;
}

export async function requireEnvironment(
  db: Db,
  projectRef: string,
  environmentRef: string,
): Promise<EnvironmentScope> {
  const scope = await findEnvironmentScope(db, projectRef, environmentRef);
  if (scope) return scope;
  // Only the error path pays a second query, to say which of the two is missing.
  await requireProject(db, projectRef);
  throw new AppError("not_found", "environment not found");
}

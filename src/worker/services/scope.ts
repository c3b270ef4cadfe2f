// The project and environment a path names, as resolved for a request.
import type { EnvironmentRow, ProjectRow } from "../db/projects.js";

export interface EnvironmentScope {
  project: ProjectRow;
  environment: EnvironmentRow;
}

// Projects and environments: creation (a new project has no coordinator state
// yet, so the Worker writes it), views, and the changes the coordinator makes.
import type { Environment, Project, ProjectSettings } from "../../contract/index.js";
import { isUniqueViolation, nowIso } from "../db/client.js";
import type { ChangeDeps } from "./write-deps.js";
import { insertKey } from "../db/keys.js";
import { countUnpurged } from "../db/secrets.js";
import {
  deleteEnvironmentStatements,
  deleteProjectStatements,
  findEnvironment,
  findProject,
  insertEnvironment,
  insertProject,
  listEnvironments,
  nextEnvironmentPosition,
  updateProject,
  type EnvironmentRow,
  type ProjectRow,
} from "../db/projects.js";
import { createKek } from "../crypto/envelope.js";
import { newId } from "../crypto/ids.js";
import { loadMasterKeyring } from "../key-providers/index.js";
import { AppError } from "../errors.js";
import { isCidr } from "../auth/client-address.js";
import { upsertGrant } from "../db/access.js";

export const DEFAULT_ENVIRONMENTS = ["development", "staging", "production"] as const;

export type ProjectDeps = ChangeDeps;

export const environmentView = (e: EnvironmentRow): Environment => ({
  id: e.id,
  slug: e.slug,
  name: e.name,
  position: e.position,
  created_at: e.createdAt,
});

export const projectView = (p: ProjectRow, environments?: EnvironmentRow[]): Project => ({
  id: p.id,
  slug: p.slug,
  name: p.name,
  settings: JSON.parse(p.settings) as ProjectSettings,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
  ...(environments ? { environments: environments.map(environmentView) } : {}),
});

/**
 * Settings become accepted as the features that enforce them land. Until then a
 * setting is refused, so nobody believes a limit holds that does not.
 */
export const ENFORCED_SETTINGS: ReadonlySet<keyof ProjectSettings> = new Set([
  "ip_allowlist",
  "rate_limit",
  "require_encrypted_payloads",
  "max_versions",
  "deleted_retention_days",
  "audit_retention_days",
]);

export function checkSettings(settings: ProjectSettings | undefined): void {
  const refused = Object.keys(settings ?? {}).filter(
    (name) => !ENFORCED_SETTINGS.has(name as keyof ProjectSettings),
  );
  if (refused.length) {
    throw new AppError("validation_failed", "these settings are not enforced by this server yet", {
      details: refused.map((name) => ({ path: ["settings", name], message: "not enforced yet" })),
    });
  }
  const badCidrs = (settings?.ip_allowlist ?? []).filter((cidr) => !isCidr(cidr));
  if (badCidrs.length) {
    throw new AppError("validation_failed", "ip_allowlist holds entries that are not CIDRs", {
      details: badCidrs.map((cidr) => ({ path: ["settings", "ip_allowlist"], message: cidr })),
    });
  }
}

/** Statements that create an environment with its first KEK. */
async function environmentStatements(
  deps: ProjectDeps,
  row: { projectId: string; slug: string; name?: string; position: number; at: string },
) {
  const id = newId("env");
  const ring = await loadMasterKeyring(deps.masterKey);
  const { wrapped } = await createKek(ring, id, 1);
  const environment: EnvironmentRow = {
    id,
    projectId: row.projectId,
    slug: row.slug,
    name: row.name ?? row.slug,
    position: row.position,
    revision: 0,
    createdAt: row.at,
  };
  return {
    environment,
    statements: [
      insertEnvironment(deps.db, environment),
      insertKey(deps.db, {
        id: newId("kek"),
        scope: "environment",
        scopeId: id,
        version: 1,
        wrappedKey: wrapped.wrappedKey,
        wrappedBy: wrapped.wrappedBy,
        state: "active",
        createdAt: row.at,
      }),
    ],
  };
}

export async function createProject(
  deps: ProjectDeps,
  input: { slug: string; name?: string; settings?: ProjectSettings },
  /** The user who becomes the project's owner (none for an instance-admin token). */
  ownerUserId: string | null,
  /** Chosen by the Worker, which addresses the new project's coordinator by it. */
  projectId: string,
): Promise<Project> {
  checkSettings(input.settings);
  if (await findProject(deps.db, input.slug)) {
    throw new AppError("conflict", `a project with slug ${input.slug} exists`);
  }
  const at = nowIso(deps.now());
  const project: ProjectRow = {
    id: projectId,
    slug: input.slug,
    name: input.name ?? input.slug,
    settings: JSON.stringify(input.settings ?? {}),
    createdAt: at,
    updatedAt: at,
  };
  const environments = await Promise.all(
    DEFAULT_ENVIRONMENTS.map((slug, position) =>
      environmentStatements(deps, { projectId: project.id, slug, position, at }),
    ),
  );
  try {
    await deps.land([
      insertProject(deps.db, project),
      ...environments.flatMap((e) => e.statements),
      ...(ownerUserId
        ? [
            upsertGrant(deps.db, {
              id: newId("grant"),
              projectId: project.id,
              subjectKind: "user",
              subjectId: ownerUserId,
              role: "owner",
              createdBy: ownerUserId,
              createdAt: at,
            }),
          ]
        : []),
    ]);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("conflict", `a project with slug ${input.slug} exists`, { cause: error });
    }
    throw error;
  }
  return projectView(
    project,
    environments.map((e) => e.environment),
  );
}

// ---- changes made by the project's coordinator ----

async function requireProjectRow(deps: ProjectDeps, projectId: string): Promise<ProjectRow> {
  const project = await findProject(deps.db, projectId);
  if (!project) throw new AppError("not_found", "project not found");
  return project;
}

export async function changeProject(
  deps: ProjectDeps,
  input: { projectId: string; name?: string; settings?: ProjectSettings },
): Promise<Project> {
  checkSettings(input.settings);
  const project = await requireProjectRow(deps, input.projectId);
  const settings = { ...(JSON.parse(project.settings) as ProjectSettings), ...input.settings };
  const updated: ProjectRow = {
    ...project,
    name: input.name ?? project.name,
    settings: JSON.stringify(settings),
    updatedAt: nowIso(deps.now()),
  };
  await deps.land([
    updateProject(deps.db, project.id, {
      name: updated.name,
      settings: updated.settings,
      updatedAt: updated.updatedAt,
    }),
  ]);
  return projectView(updated, await listEnvironments(deps.db, project.id));
}

export async function removeProject(deps: ProjectDeps, projectId: string): Promise<null> {
  await requireProjectRow(deps, projectId);
  await deps.land([...deleteProjectStatements(deps.db, projectId)]);
  return null;
}

export async function addEnvironment(
  deps: ProjectDeps,
  input: { projectId: string; slug: string; name?: string },
): Promise<Environment> {
  await requireProjectRow(deps, input.projectId);
  if (await findEnvironment(deps.db, input.projectId, input.slug)) {
    throw new AppError("conflict", `an environment with slug ${input.slug} exists`);
  }
  const position = await nextEnvironmentPosition(deps.db, input.projectId);
  const { environment, statements } = await environmentStatements(deps, {
    ...input,
    position,
    at: nowIso(deps.now()),
  });
  await deps.land(statements);
  return environmentView(environment);
}

export async function removeEnvironment(
  deps: ProjectDeps,
  input: { projectId: string; environment: string; force: boolean },
): Promise<null> {
  const environment = await findEnvironment(deps.db, input.projectId, input.environment);
  if (!environment) throw new AppError("not_found", "environment not found");
  const held = await countUnpurged(deps.db, environment.id);
  if (held > 0 && !input.force) {
    throw new AppError("conflict", `the environment still holds ${held} secret(s); use force=true`);
  }
  await deps.land([...deleteEnvironmentStatements(deps.db, environment.id)]);
  return null;
}

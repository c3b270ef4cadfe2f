// Writes of a project's grants, custom roles, tokens and trust policies. Like
// secrets, they run only inside the project's coordinator (the single writer);
// the Worker has already checked that the caller may make them.
import type { Permission } from "../../contract/index.js";
import { parseJson } from "../auth/api-token.js";
import type { ClientCertificate } from "../auth/client-certificate.js";
import { isUniqueViolation, nowIso } from "../db/client.js";
import type { ChangeDeps } from "./write-deps.js";
import {
  deleteGrant,
  deleteTrust,
  findGrant,
  findTrust,
  insertRole,
  insertTrust,
  revokeToken,
  upsertGrant,
  type GrantRow,
  type TrustRow,
} from "../db/access.js";
import { findApiToken, insertApiToken, type ApiTokenRow } from "../db/identity.js";
import { sha256Hex } from "../crypto/hashing.js";
import { newId, newToken } from "../crypto/ids.js";
import { AppError } from "../errors.js";

export type AccessDeps = ChangeDeps;

const json = (value: unknown) =>
  value === undefined || value === null ? null : JSON.stringify(value);

export const grantView = (g: GrantRow) => ({
  subject: { kind: g.subjectKind, id: g.subjectId },
  role: g.role,
  environments: parseJson<string[]>(g.environments),
  expires_at: g.expiresAt,
  created_at: g.createdAt,
  created_by: g.createdBy,
});

export const tokenView = (t: ApiTokenRow) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  permissions: parseJson<Permission[]>(t.permissions),
  environments: parseJson<string[]>(t.environments),
  ip_allowlist: parseJson<string[]>(t.ipAllowlist),
  client_certificates: parseJson<ClientCertificate[]>(t.clientCertificates),
  expires_at: t.expiresAt,
  last_used_at: t.lastUsedAt,
  revoked_at: t.revokedAt,
  created_at: t.createdAt,
  created_by: t.createdBy,
});

export const trustView = (t: TrustRow) => ({
  id: t.id,
  issuer: t.issuer,
  audience: t.audience,
  claims: JSON.parse(t.claims) as Record<string, string>,
  role: t.role,
  permissions: parseJson<Permission[]>(t.permissions),
  environments: parseJson<string[]>(t.environments),
  ttl_seconds: t.ttlSeconds,
  allow_wildcard_subject: t.allowWildcardSubject,
  client_certificates: parseJson<ClientCertificate[]>(t.clientCertificates),
  created_at: t.createdAt,
  created_by: t.createdBy,
});

export interface GrantInput {
  projectId: string;
  subjectKind: "user" | "team";
  subjectId: string;
  role: string;
  environments: string[] | null;
  expiresAt: string | null;
  actor: string;
}

export async function putGrant(deps: AccessDeps, input: GrantInput) {
  await deps.land([
    upsertGrant(deps.db, {
      id: newId("grant"),
      projectId: input.projectId,
      subjectKind: input.subjectKind,
      subjectId: input.subjectId,
      role: input.role,
      environments: json(input.environments),
      expiresAt: input.expiresAt,
      createdBy: input.actor,
      createdAt: nowIso(deps.now()),
    }),
  ]);
  return grantView(
    (await findGrant(deps.db, input.projectId, input.subjectKind, input.subjectId))!,
  );
}

export async function removeGrant(
  deps: AccessDeps,
  input: { projectId: string; subjectKind: "user" | "team"; subjectId: string },
): Promise<null> {
  const grant = await findGrant(deps.db, input.projectId, input.subjectKind, input.subjectId);
  if (!grant) throw new AppError("not_found", "no grant for this member");
  await deps.land([deleteGrant(deps.db, grant.id)]);
  return null;
}

export async function addRole(
  deps: AccessDeps,
  input: { projectId: string; name: string; permissions: Permission[] },
) {
  const row = {
    id: newId("role"),
    projectId: input.projectId,
    name: input.name,
    permissions: JSON.stringify([...new Set(input.permissions)].sort()),
    createdAt: nowIso(deps.now()),
  };
  try {
    await deps.land([insertRole(deps.db, row)]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict", `role ${input.name} exists`);
    throw error;
  }
  return { id: row.id, name: row.name, permissions: JSON.parse(row.permissions) as Permission[] };
}

export interface TokenInput {
  projectId: string;
  name: string;
  role: string | null;
  permissions: Permission[] | null;
  environments: string[] | null;
  expiresAt: string | null;
  ipAllowlist: string[] | null;
  clientCertificates: ClientCertificate[] | null;
  actor: string;
}

/** Creates a project token; the token string is in this answer only. */
export async function createToken(deps: AccessDeps, input: TokenInput) {
  const token = newToken("svc");
  const row: ApiTokenRow = {
    id: token.id,
    kind: "project",
    projectId: input.projectId,
    userId: null,
    name: input.name,
    secretHash: sha256Hex(token.secret),
    role: input.role,
    permissions: json(input.permissions),
    environments: json(input.environments),
    ipAllowlist: json(input.ipAllowlist),
    clientCertificates: json(input.clientCertificates),
    createdBy: input.actor,
    createdAt: nowIso(deps.now()),
    expiresAt: input.expiresAt,
    lastUsedAt: null,
    revokedAt: null,
  };
  await deps.land([insertApiToken(deps.db, row)]);
  return { ...tokenView(row), token: token.token };
}

export async function revokeProjectToken(
  deps: AccessDeps,
  input: { projectId: string; tokenId: string },
): Promise<null> {
  const row = await findApiToken(deps.db, input.tokenId);
  if (!row || row.projectId !== input.projectId) throw new AppError("not_found", "token not found");
  if (!row.revokedAt) await deps.land([revokeToken(deps.db, row.id, nowIso(deps.now()))]);
  return null;
}

export interface TrustInput {
  projectId: string;
  issuer: string;
  audience: string;
  claims: Record<string, string>;
  role: string | null;
  permissions: Permission[] | null;
  environments: string[] | null;
  ttlSeconds: number;
  allowWildcardSubject: boolean;
  clientCertificates: ClientCertificate[] | null;
  actor: string;
}

export async function addTrust(deps: AccessDeps, input: TrustInput) {
  const row: TrustRow = {
    id: newId("trust"),
    projectId: input.projectId,
    issuer: input.issuer,
    audience: input.audience,
    claims: JSON.stringify(input.claims),
    role: input.role,
    permissions: json(input.permissions),
    environments: json(input.environments),
    ttlSeconds: input.ttlSeconds,
    allowWildcardSubject: input.allowWildcardSubject,
    clientCertificates: json(input.clientCertificates),
    createdBy: input.actor,
    createdAt: nowIso(deps.now()),
  };
  await deps.land([insertTrust(deps.db, row)]);
  return trustView(row);
}

export async function removeTrust(
  deps: AccessDeps,
  input: { projectId: string; trustId: string },
): Promise<null> {
  const row = await findTrust(deps.db, input.trustId);
  if (!row || row.projectId !== input.projectId) throw new AppError("not_found", "trust not found");
  await deps.land([deleteTrust(deps.db, row.id)]);
  return null;
}

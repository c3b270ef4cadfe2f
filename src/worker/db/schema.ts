// D1 schema (drizzle). migrations/ is generated from this file by drizzle-kit.
// Value ciphertexts, IVs and wrapped keys are base64 text; see docs/storage.md.

import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

/** Instance-wide markers (the bootstrap row makes bootstrap happen once). */
export const instanceState = sqliteTable("instance_state", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  createdAt: text("created_at").notNull(),
});

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name"),
  passwordHash: text("password_hash"),
  instanceRole: text("instance_role", { enum: ["admin", "member"] }).notNull(),
  createdAt: text("created_at").notNull(),
  disabledAt: text("disabled_at"),
});

export const projects = sqliteTable("projects", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  settings: text("settings").notNull().default("{}"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const environments = sqliteTable(
  "environments",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    position: integer("position").notNull(),
    /** Bumped by every write to the environment's secrets; the ETag of list and export. */
    revision: integer("revision").notNull().default(0),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("environments_project_slug").on(t.projectId, t.slug)],
);

/**
 * Key-encryption keys (scope `environment`), instance keys and Transit keys
 * (scope `transit`, scope_id `<project id>:<name>`), wrapped by a master key.
 */
export const keys = sqliteTable(
  "keys",
  {
    id: text("id").primaryKey(),
    scope: text("scope", { enum: ["instance", "environment", "transit"] }).notNull(),
    scopeId: text("scope_id").notNull(),
    version: integer("version").notNull(),
    wrappedKey: text("wrapped_key").notNull(),
    wrappedBy: text("wrapped_by").notNull(),
    state: text("state", { enum: ["active", "retired", "destroyed"] }).notNull(),
    /** The public half of an asymmetric server key (JWK JSON); never secret material. */
    publicKey: text("public_key"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("keys_scope_version").on(t.scope, t.scopeId, t.version)],
);

export const secrets = sqliteTable(
  "secrets",
  {
    id: text("id").primaryKey(),
    environmentId: text("environment_id")
      .notNull()
      .references(() => environments.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    currentVersion: integer("current_version").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    updatedBy: text("updated_by"),
    deletedAt: text("deleted_at"),
    /** Set when every version was destroyed; the key no longer exists for readers. */
    purgedAt: text("purged_at"),
    rotation: text("rotation"),
    tags: text("tags").notNull().default("[]"),
    note: text("note"),
  },
  (t) => [uniqueIndex("secrets_environment_key").on(t.environmentId, t.key)],
);

export const secretVersions = sqliteTable(
  "secret_versions",
  {
    secretId: text("secret_id")
      .notNull()
      .references(() => secrets.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** Null once destroyed. */
    ciphertext: text("ciphertext"),
    iv: text("iv"),
    /** Null once destroyed: deleting the wrapped DEK is the crypto-shred. */
    wrappedDek: text("wrapped_dek"),
    kekId: text("kek_id").notNull(),
    createdBy: text("created_by"),
    createdAt: text("created_at").notNull(),
    deletedAt: text("deleted_at"),
    revokedAt: text("revoked_at"),
    destroyedAt: text("destroyed_at"),
  },
  (t) => [
    primaryKey({ columns: [t.secretId, t.version] }),
    index("secret_versions_kek").on(t.kekId),
  ],
);

export const apiTokens = sqliteTable("api_tokens", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["admin", "project"] }).notNull(),
  projectId: text("project_id").references(() => projects.id, { onDelete: "cascade" }),
  userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
  name: text("name").notNull(),
  /** hex(SHA-256(secret part)); the token itself is shown once and never stored. */
  secretHash: text("secret_hash").notNull(),
  /** A role name (built-in or custom) or, when null, `permissions`. */
  role: text("role"),
  permissions: text("permissions"),
  /** JSON array of environment slugs, or null for every environment. */
  environments: text("environments"),
  ipAllowlist: text("ip_allowlist"),
  clientCertificates: text("client_certificates"),
  createdBy: text("created_by"),
  createdAt: text("created_at").notNull(),
  expiresAt: text("expires_at"),
  lastUsedAt: text("last_used_at"),
  revokedAt: text("revoked_at"),
});

export const teams = sqliteTable("teams", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  createdAt: text("created_at").notNull(),
});

export const teamMembers = sqliteTable(
  "team_members",
  {
    teamId: text("team_id")
      .notNull()
      .references(() => teams.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] }), index("team_members_user").on(t.userId)],
);

/** Custom roles of a project (built-in roles live in code). */
export const roles = sqliteTable(
  "roles",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    permissions: text("permissions").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("roles_project_name").on(t.projectId, t.name)],
);

/** A user or team's role on a project, optionally limited to environments and time. */
export const grants = sqliteTable(
  "grants",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    subjectKind: text("subject_kind", { enum: ["user", "team"] }).notNull(),
    subjectId: text("subject_id").notNull(),
    role: text("role").notNull(),
    environments: text("environments"),
    expiresAt: text("expires_at"),
    createdBy: text("created_by"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("grants_subject").on(t.projectId, t.subjectKind, t.subjectId),
    index("grants_by_subject").on(t.subjectKind, t.subjectId),
  ],
);

/** Rotating refresh tokens; reuse of a spent one revokes its whole family. */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    familyId: text("family_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    secretHash: text("secret_hash").notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
    revokedAt: text("revoked_at"),
  },
  (t) => [index("refresh_tokens_family").on(t.familyId), index("refresh_tokens_user").on(t.userId)],
);

/** OIDC workload-identity trust policies of a project. */
export const oidcTrusts = sqliteTable("oidc_trusts", {
  id: text("id").primaryKey(),
  projectId: text("project_id")
    .notNull()
    .references(() => projects.id, { onDelete: "cascade" }),
  issuer: text("issuer").notNull(),
  audience: text("audience").notNull(),
  claims: text("claims").notNull(),
  role: text("role"),
  permissions: text("permissions"),
  environments: text("environments"),
  ttlSeconds: integer("ttl_seconds").notNull(),
  allowWildcardSubject: integer("allow_wildcard_subject", { mode: "boolean" }).notNull(),
  clientCertificates: text("client_certificates"),
  createdBy: text("created_by"),
  createdAt: text("created_at").notNull(),
});

/**
 * Audit events of every chain: `chain` is a project id, or `instance`. Rows are
 * written by the chain's coordinator only, idempotently by (chain, seq).
 */
export const auditEvents = sqliteTable(
  "audit_events",
  {
    chain: text("chain").notNull(),
    seq: integer("seq").notNull(),
    ts: text("ts").notNull(),
    actorKind: text("actor_kind").notNull(),
    actorId: text("actor_id"),
    action: text("action").notNull(),
    target: text("target"),
    result: text("result").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id"),
    details: text("details"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.seq] }), index("audit_events_ts").on(t.chain, t.ts)],
);

/**
 * A signed checkpoint of a chain's pruned head: events up to `seq` were
 * deleted by retention, and `hash` was the hash of event `seq`. `signature`
 * is a compact JWS (ES256, the server's signing key) over the other fields.
 */
export const auditCheckpoints = sqliteTable(
  "audit_checkpoints",
  {
    chain: text("chain").notNull(),
    seq: integer("seq").notNull(),
    hash: text("hash").notNull(),
    prunedAt: text("pruned_at").notNull(),
    signature: text("signature").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.seq] })],
);

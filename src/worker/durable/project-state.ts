// The coordinator's coherent in-memory view of its project: the project row,
// environments, tokens, custom roles, wrapped KEKs and the current ciphertext
// rows of recently read environments. Loaded lazily from D1; dropped whole
// after every change the coordinator makes (nothing else writes these rows).
import {
  NOT_MODIFIED_COST,
  DEFAULT_RATE_LIMIT,
  type Permission,
  type ProjectSettings,
} from "../../contract/index.js";
import { verifyApiToken } from "../auth/api-token.js";
import { allowedBy } from "../auth/client-address.js";
import { certificateMatches } from "../auth/client-certificate.js";
import { can, seesEnvironment, type ProjectAccess } from "../auth/permissions.js";
import type { GrantSpec } from "../auth/principal.js";
import type { AuditActor } from "../audit/event.js";
import type { Db } from "../db/client.js";
import { projectRoles } from "../db/access.js";
import { findApiToken, type ApiTokenRow } from "../db/identity.js";
import { findKey, type KeyRow } from "../db/keys.js";
import {
  findProject,
  listEnvironments,
  type EnvironmentRow,
  type ProjectRow,
} from "../db/projects.js";
import { findSecretVersion, listCurrent } from "../db/secrets.js";
import { AppError } from "../errors.js";
import { environmentEtag, etagMatches } from "../services/etag.js";
import { decodeCursor, encodeCursor } from "../services/pagination.js";
import type { ReadAnswer, ReadRequest, SealedRow, WrappedKekRow } from "./read-model.js";
import { TokenBuckets } from "./token-bucket.js";

const MAX_CACHED_ENVIRONMENTS = 16;

interface Loaded {
  project: ProjectRow;
  settings: ProjectSettings;
  environments: Map<string, EnvironmentRow>;
}

/** A token bound to certificates was presented without the certificate being read yet. */
class TlsNeeded extends Error {}

export interface ReadOutcome {
  /** Nothing happened: the Worker calls again with the request's certificate (not audited). */
  tlsNeeded?: true;
  actor: AuditActor;
  action: string;
  target: string | null;
  answer?: ReadAnswer;
  error?: AppError;
}

const ACTIONS = { secret: "secret.read", list: "secret.list", export: "secret.export" } as const;

export class ProjectState {
  readonly #db: Db;
  readonly #projectId: string;
  readonly #buckets = new TokenBuckets();
  #loaded: Promise<Loaded | null> | undefined;
  #tokens = new Map<string, Promise<ApiTokenRow | undefined>>();
  #roles: Promise<Map<string, Permission[]>> | undefined;
  #rows = new Map<string, Promise<SealedRow[]>>();
  #keks = new Map<string, Promise<KeyRow | undefined>>();
  /** Token ids seen since the last flush of last_used_at. */
  readonly used = new Map<string, number>();

  constructor(db: Db, projectId: string) {
    this.#db = db;
    this.#projectId = projectId;
  }

  /** Forgets everything: called after every change the coordinator lands. */
  invalidate(): void {
    this.#loaded = undefined;
    this.#tokens.clear();
    this.#roles = undefined;
    this.#rows.clear();
    this.#keks.clear();
  }

  #load(): Promise<Loaded | null> {
    this.#loaded ??= (async () => {
      // Two queries at once: a change drops this view, so the next change or read reloads it.
      const [project, environments] = await Promise.all([
        findProject(this.#db, this.#projectId),
        listEnvironments(this.#db, this.#projectId),
      ]);
      if (!project) return null;
      return {
        project,
        settings: JSON.parse(project.settings) as ProjectSettings,
        environments: new Map(environments.map((e) => [e.slug, e])),
      };
    })();
    this.#loaded.catch(() => (this.#loaded = undefined));
    return this.#loaded;
  }

  #token(id: string) {
    let row = this.#tokens.get(id);
    if (!row) {
      row = findApiToken(this.#db, id);
      row.catch(() => this.#tokens.delete(id));
      this.#tokens.set(id, row);
    }
    return row;
  }

  #customRoles() {
    this.#roles ??= projectRoles(this.#db, this.#projectId).then(
      (rows) => new Map(rows.map((r) => [r.name, JSON.parse(r.permissions) as Permission[]])),
    );
    return this.#roles;
  }

  #environmentRows(environment: EnvironmentRow): Promise<SealedRow[]> {
    const key = `${environment.id}:${environment.revision}`;
    let rows = this.#rows.get(key);
    if (!rows) {
      if (this.#rows.size >= MAX_CACHED_ENVIRONMENTS)
        this.#rows.delete(this.#rows.keys().next().value!);
      rows = listCurrent(this.#db, environment.id).then((r) =>
        r.map(({ secret, version }) => sealedRow(secret, version)),
      );
      rows.catch(() => this.#rows.delete(key));
      this.#rows.set(key, rows);
    }
    return rows;
  }

  async #wrappedKeks(ids: Iterable<string>): Promise<WrappedKekRow[]> {
    const rows = await Promise.all(
      [...new Set(ids)].map((id) => {
        let row = this.#keks.get(id);
        if (!row) {
          row = findKey(this.#db, id);
          this.#keks.set(id, row);
        }
        return row;
      }),
    );
    return rows
      .filter((r): r is KeyRow => r !== undefined)
      .map((r) => ({
        id: r.id,
        environmentId: r.scopeId,
        version: r.version,
        wrappedKey: r.wrappedKey,
        wrappedBy: r.wrappedBy,
        destroyed: r.state === "destroyed",
      }));
  }

  /** Authenticates a project token exactly as the Worker would (constant time, same work for unknown ids). */
  async #authenticate(
    req: ReadRequest,
    now: number,
  ): Promise<{ actor: AuditActor; grant: GrantSpec }> {
    if (req.credential.kind !== "token") throw new Error("not a token credential");
    const { token, tls } = req.credential;
    const unauthorized = () => new AppError("unauthorized", "a valid token is required");
    const verified = await verifyApiToken((id) => this.#token(id), token, now, ["svc"]);
    // Project (svc) tokens always carry a grant.
    if (!verified?.grant) throw unauthorized();
    const { row, grant } = verified;
    // A valid token of another project may not see this one: 404, as for any principal.
    if (row.projectId !== this.#projectId) throw new AppError("not_found", "project not found");
    if (tls === undefined && verified.clientCertificates?.length) throw new TlsNeeded();
    const tlsAuth = tls ? { tlsClientAuth: tls } : undefined;
    if (!certificateMatches(verified.clientCertificates, tlsAuth)) throw unauthorized();
    if (!allowedBy(verified.ipAllowlist, req.ip)) {
      throw new AppError("forbidden", "this token may not be used from this address");
    }
    this.used.set(row.id, now);
    return { actor: { kind: "token", id: row.id }, grant };
  }

  /** The project's settings, or null when the project does not exist. */
  async settings(): Promise<ProjectSettings | null> {
    return (await this.#load())?.settings ?? null;
  }

  /** Takes `cost` from the actor's bucket (project changes); 429 when it is empty. */
  async take(actor: AuditActor, cost: number, now: number): Promise<void> {
    const loaded = await this.#load();
    if (!loaded) return; // a project being created has no limits yet
    const limit = loaded.settings.rate_limit ?? DEFAULT_RATE_LIMIT;
    const wait = this.#buckets.take(`${actor.kind}:${actor.id}`, cost, limit, now);
    if (wait > 0) {
      throw new AppError("rate_limited", "too many requests", { details: { retry_after: wait } });
    }
  }

  /** Everything a read needs short of decryption: authentication, authorization, limits, rows. */
  async read(req: ReadRequest, now: number): Promise<ReadOutcome> {
    const action = ACTIONS[req.what.kind];
    const target =
      req.what.kind === "secret" ? `${req.what.environment}/${req.what.key}` : req.what.environment;
    let actor: AuditActor =
      req.credential.kind === "authorized" ? req.credential.actor : { kind: "anonymous", id: null };
    try {
      const loaded = await this.#load();
      if (!loaded) throw new AppError("not_found", "project not found");
      let canReadValues: boolean;
      const ref = req.what.environment;
      const environment = ref.includes("_")
        ? [...loaded.environments.values()].find((e) => e.id === ref)
        : loaded.environments.get(ref);
      if (req.credential.kind === "token") {
        const auth = await this.#authenticate(req, now);
        actor = auth.actor;
        const roles = auth.grant.role ? await this.#customRoles() : new Map();
        const access: ProjectAccess = { everything: false, grants: [auth.grant], roles };
        if (!allowedBy(loaded.settings.ip_allowlist ?? null, req.ip)) {
          throw new AppError("forbidden", "this project may not be reached from this address");
        }
        if (!environment || !seesEnvironment(access, environment.slug)) {
          throw new AppError("not_found", "environment not found");
        }
        const needed: Permission = req.what.kind === "list" ? "secrets:list" : "secrets:read";
        if (!can(access, needed, environment.slug)) {
          throw new AppError("forbidden", `this needs the ${needed} permission`);
        }
        canReadValues = can(access, "secrets:read", environment.slug);
      } else {
        canReadValues = req.credential.canReadValues;
      }
      if (!environment) throw new AppError("not_found", "environment not found");
      const answer = await this.#answer(
        req,
        environment,
        canReadValues,
        loaded.settings,
        actor,
        now,
      );
      return { actor, action, target, answer };
    } catch (error) {
      if (error instanceof AppError) return { actor, action, target, error };
      if (error instanceof TlsNeeded) return { actor, action, target, tlsNeeded: true };
      throw error;
    }
  }

  async #answer(
    req: ReadRequest,
    environment: EnvironmentRow,
    canReadValues: boolean,
    settings: ProjectSettings,
    actor: AuditActor,
    now: number,
  ): Promise<ReadAnswer> {
    const what = req.what;
    const withValues = what.kind !== "list" || (what.values && canReadValues);
    const variant =
      what.kind === "list"
        ? `list-${withValues ? "values" : "keys"}-${what.limit}-${what.cursor ?? ""}`
        : what.kind === "export"
          ? `export-${what.format}`
          : null;
    const etag = variant ? environmentEtag(environment.id, environment.revision, variant) : null;
    const notModified = etag !== null && etagMatches(req.ifNoneMatch, etag);
    const limit = settings.rate_limit ?? DEFAULT_RATE_LIMIT;
    const wait = this.#buckets.take(
      `${actor.kind}:${actor.id}`,
      notModified ? NOT_MODIFIED_COST : 1,
      limit,
      now,
    );
    if (wait > 0) {
      throw new AppError("rate_limited", "too many requests", { details: { retry_after: wait } });
    }
    if (notModified) return { notModified: true, etag: etag! };
    let rows = await this.#environmentRows(environment);
    let nextCursor: string | null = null;
    if (what.kind === "secret") {
      let row = rows.find((r) => r.key === what.key);
      if (what.version !== undefined && what.version !== row?.version) {
        const found = await findSecretVersion(this.#db, environment.id, what.key, what.version);
        row =
          found?.secret &&
          found.version &&
          !found.secret.deletedAt &&
          !found.secret.purgedAt &&
          !found.version.deletedAt
            ? sealedRow(found.secret, found.version)
            : undefined;
      }
      if (!row) throw new AppError("not_found", "secret not found");
      if (row.revoked) throw new AppError("gone", `version ${row.version} is revoked`);
      if (row.destroyed) throw new AppError("gone", `version ${row.version} is destroyed`);
      rows = [row];
    } else if (what.kind === "list") {
      const after = decodeCursor<string>(what.cursor, "string");
      const from = after === undefined ? rows : rows.filter((r) => r.key > after);
      const page = from.slice(0, what.limit);
      nextCursor = from.length > what.limit ? encodeCursor(page.at(-1)!.key) : null;
      rows = page;
    }
    const needed = withValues ? rows.filter((r) => !r.revoked && !r.destroyed) : [];
    return {
      notModified: false,
      etag: etag ?? `"${rows[0]!.version}"`,
      projectId: this.#projectId,
      environmentId: environment.id,
      rows: withValues
        ? rows
        : rows.map((r) => ({ ...r, ciphertext: null, iv: null, wrappedDek: null })),
      keks: await this.#wrappedKeks(needed.map((r) => r.kekId)),
      withValues,
      nextCursor,
      requireEncryptedPayloads: settings.require_encrypted_payloads === true,
    };
  }
}

function sealedRow(
  secret: import("../db/secrets.js").SecretRow,
  version: import("../db/secrets.js").SecretVersionRow,
): SealedRow {
  return {
    secretId: secret.id,
    key: secret.key,
    version: version.version,
    ciphertext: version.ciphertext,
    iv: version.iv,
    wrappedDek: version.wrappedDek,
    kekId: version.kekId,
    revoked: version.revokedAt !== null,
    destroyed: version.destroyedAt !== null,
    createdAt: version.createdAt,
    createdBy: version.createdBy,
    updatedAt: secret.updatedAt,
    updatedBy: secret.updatedBy,
    tags: secret.tags,
    note: secret.note,
  };
}

// The write side of secrets. Runs only inside the project's coordinator, one
// change at a time, so version numbers and check-and-set decisions are made
// against a state nobody else can change; each change is one D1 batch, and the
// UNIQUE(secret_id, version) constraint backs the decision up.
import type { SecretWriteResult } from "../../contract/index.js";
import { nowIso } from "../db/client.js";
import type { ChangeDeps } from "./write-deps.js";
import type { BatchItem } from "drizzle-orm/batch";
import { bumpRevision, findEnvironment, type EnvironmentRow } from "../db/projects.js";
import {
  findSecret,
  findVersion,
  insertVersions,
  listSecrets,
  markDeleted,
  markRevoked,
  markVersionsDeleted,
  purgeStatements,
  upsertSecrets,
  type NewSecretRow,
  type NewSecretVersionRow,
  type SecretRow,
} from "../db/secrets.js";
import { encryptValue } from "../crypto/envelope.js";
import { newId } from "../crypto/ids.js";
import { AppError } from "../errors.js";
import type { RotationPolicy } from "../../contract/index.js";
import { generateValue } from "../crypto/generate.js";
import { parseRotation, rotationView, storeRotation } from "./rotation.js";
import { activeKekFor } from "./kek-provider.js";
import { decryptVersion } from "./secrets-read.js";

export type WriteDeps = ChangeDeps;

export interface SecretTarget {
  projectId: string;
  environment: string;
  key: string;
  actor: string;
}

/** `If-Match`: a version, or `*` (the key must exist), or a value that can never match. */
export interface Precondition {
  ifMatch?: number | "*" | "never";
  /** `If-None-Match: *`: the key must not exist. */
  ifNoneMatchAny?: boolean;
}

/** Reads `If-Match: "<version>"` / `*` and `If-None-Match: *` request headers. */
export function parsePrecondition(ifMatch?: string, ifNoneMatch?: string): Precondition {
  const p: Precondition = {};
  if (ifNoneMatch?.trim() === "*") p.ifNoneMatchAny = true;
  if (ifMatch !== undefined) {
    const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(ifMatch.trim());
    p.ifMatch = ifMatch.trim() === "*" ? "*" : m ? Number(m[1]) : "never";
  }
  return p;
}

export interface PutInput extends SecretTarget {
  value: string;
  tags?: string[];
  note?: string;
  precondition?: Precondition;
  /** A new rotation policy, null to remove it; left out, the secret keeps its own. */
  rotation?: RotationPolicy | null;
}

const exists = (s: SecretRow | undefined): s is SecretRow =>
  s !== undefined && s.deletedAt === null && s.purgedAt === null;

async function environmentOf(deps: WriteDeps, projectId: string, ref: string) {
  const environment = await findEnvironment(deps.db, projectId, ref);
  if (!environment) throw new AppError("not_found", "environment not found");
  return environment;
}

function checkPrecondition(current: SecretRow | undefined, p: Precondition = {}): void {
  const live = exists(current);
  if (p.ifNoneMatchAny && live) {
    throw new AppError("precondition_failed", "the key already exists (If-None-Match: *)");
  }
  if (p.ifMatch === undefined) return;
  const matches =
    live && (p.ifMatch === "*" || (p.ifMatch !== "never" && p.ifMatch === current.currentVersion));
  if (!matches) {
    throw new AppError("precondition_failed", "the key's current version does not match If-Match", {
      details: { current_version: live ? current.currentVersion : null },
    });
  }
}

interface PlannedVersion {
  secret: NewSecretRow;
  version: NewSecretVersionRow;
}

/** What every new version of one change shares: where it goes, its KEK, its time. */
interface ChangeContext {
  projectId: string;
  environment: EnvironmentRow;
  kek: { kekId: string; key: CryptoKey };
  at: string;
}

async function changeContext(
  deps: WriteDeps,
  projectId: string,
  environment: EnvironmentRow,
): Promise<ChangeContext> {
  const kek = await activeKekFor(deps.db, deps.masterKey, environment.id);
  return { projectId, environment, kek, at: nowIso(deps.now()) };
}

/** Encrypts `value` as the next version of `key` (the version is in the AAD). */
async function planVersion(
  { projectId, environment, kek, at }: ChangeContext,
  current: SecretRow | undefined,
  change: {
    key: string;
    value: string;
    tags?: string[];
    note?: string;
    actor: string;
    rotation?: RotationPolicy | null;
  },
): Promise<PlannedVersion> {
  const secretId = current?.id ?? newId("sec");
  const version = (current?.currentVersion ?? 0) + 1;
  const sealed = await encryptValue(
    kek.key,
    { projectId, environmentId: environment.id, secretId, key: change.key, version },
    change.value,
  );
  return {
    secret: {
      id: secretId,
      environmentId: environment.id,
      key: change.key,
      currentVersion: version,
      createdAt: current?.createdAt ?? at,
      updatedAt: at,
      updatedBy: change.actor,
      tags: change.tags ? JSON.stringify(change.tags) : (current?.tags ?? "[]"),
      note: change.note ?? current?.note ?? null,
      rotation:
        change.rotation === undefined
          ? (current?.rotation ?? null)
          : change.rotation && storeRotation(change.rotation, at),
    },
    version: {
      secretId,
      version,
      ...sealed,
      kekId: kek.kekId,
      createdBy: change.actor,
      createdAt: at,
    },
  };
}

function landVersions(
  deps: WriteDeps,
  environmentId: string,
  planned: PlannedVersion[],
  extra: BatchItem<"sqlite">[] = [],
) {
  const { db } = deps;
  const statements = [
    ...upsertSecrets(
      db,
      planned.map((p) => p.secret),
    ),
    ...insertVersions(
      db,
      planned.map((p) => p.version),
    ),
    ...extra,
    bumpRevision(db, environmentId),
  ];
  return deps.land(statements);
}

export async function putSecret(
  deps: WriteDeps,
  input: PutInput,
): Promise<SecretWriteResult & { created: boolean }> {
  const environment = await environmentOf(deps, input.projectId, input.environment);
  const [current, context] = await Promise.all([
    findSecret(deps.db, environment.id, input.key),
    changeContext(deps, input.projectId, environment),
  ]);
  checkPrecondition(current, input.precondition);
  const planned = await planVersion(context, current, input);
  await landVersions(deps, environment.id, [planned]);
  const rotation = parseRotation(planned.secret.rotation ?? null);
  return {
    key: input.key,
    version: planned.version.version,
    created_at: context.at,
    created: !exists(current),
    ...(rotation ? { rotation: rotationView(rotation) } : {}),
  };
}

/**
 * Rotates a secret by its policy: a generated value, or `value` (what its
 * webhook returned, fetched before the change). 409 without a policy.
 */
export async function rotateSecret(
  deps: WriteDeps,
  input: SecretTarget & { value?: string },
): Promise<SecretWriteResult> {
  const environment = await environmentOf(deps, input.projectId, input.environment);
  const current = await findSecret(deps.db, environment.id, input.key);
  if (!exists(current)) throw new AppError("not_found", "secret not found");
  const policy = parseRotation(current.rotation);
  if (!policy) throw new AppError("conflict", "this secret has no rotation policy");
  const value = "generate" in policy ? generateValue(policy.generate) : input.value;
  if (value === undefined) throw new Error("a webhook rotation needs the webhook's value");
  const context = await changeContext(deps, input.projectId, environment);
  const { interval_days, ...rest } = policy;
  const next =
    "webhook" in rest
      ? { interval_days, webhook: rest.webhook }
      : { interval_days, generate: rest.generate };
  const planned = await planVersion(context, current, { ...input, value, rotation: next });
  await landVersions(deps, environment.id, [planned]);
  return {
    key: input.key,
    version: planned.version.version,
    created_at: context.at,
    rotation: rotationView(parseRotation(planned.secret.rotation!)!),
  };
}

export interface BulkInput {
  projectId: string;
  environment: string;
  set: Record<string, string>;
  delete: string[];
  actor: string;
}

/** One atomic change of many keys: every set and delete lands in one batch, or none does. */
export async function bulkChange(deps: WriteDeps, input: BulkInput): Promise<{ changed: number }> {
  const environment = await environmentOf(deps, input.projectId, input.environment);
  const [secrets, context] = await Promise.all([
    listSecrets(deps.db, environment.id),
    changeContext(deps, input.projectId, environment),
  ]);
  const existing = new Map(secrets.map((s) => [s.key, s] as const));
  const missing = input.delete.filter((key) => !exists(existing.get(key)));
  if (missing.length) {
    throw new AppError("not_found", "some keys to delete do not exist", {
      details: { keys: missing },
    });
  }
  const planned = await Promise.all(
    Object.entries(input.set).map(([key, value]) =>
      planVersion(context, existing.get(key), { key, value, actor: input.actor }),
    ),
  );
  const deletes = input.delete.map((key) =>
    markDeleted(deps.db, existing.get(key)!.id, context.at),
  );
  await landVersions(deps, environment.id, planned, deletes);
  return { changed: planned.length + deletes.length };
}

async function requireSecret(deps: WriteDeps, target: Omit<SecretTarget, "actor">) {
  const environment = await environmentOf(deps, target.projectId, target.environment);
  const secret = await findSecret(deps.db, environment.id, target.key);
  if (!secret || secret.purgedAt) throw new AppError("not_found", "secret not found");
  return { environment, secret };
}

export async function deleteSecret(
  deps: WriteDeps,
  target: SecretTarget & { purge: boolean },
): Promise<null> {
  const { environment, secret } = await requireSecret(deps, target);
  if (secret.deletedAt && !target.purge) throw new AppError("not_found", "secret not found");
  const at = nowIso(deps.now());
  const { db } = deps;
  const change = target.purge ? purgeStatements(db, secret, at) : [markDeleted(db, secret.id, at)];
  await deps.land([...change, bumpRevision(db, environment.id)]);
  return null;
}

export async function restoreSecret(
  deps: WriteDeps,
  target: SecretTarget,
): Promise<{ key: string; version: number }> {
  const { environment, secret } = await requireSecret(deps, target);
  // Deleted as a whole, or its current version deleted on its own (Vault's per-version delete).
  const current = await findVersion(deps.db, secret.id, secret.currentVersion);
  if (!secret.deletedAt && !current?.deletedAt) {
    throw new AppError("conflict", "the secret is not deleted");
  }
  await deps.land([
    ...(secret.deletedAt ? [markDeleted(deps.db, secret.id, null)] : []),
    ...(current?.deletedAt
      ? [markVersionsDeleted(deps.db, secret.id, [secret.currentVersion], null)]
      : []),
    bumpRevision(deps.db, environment.id),
  ]);
  return { key: secret.key, version: secret.currentVersion };
}

/** Writes version N's value again as a new version (re-encrypted under the new version's AAD). */
export async function rollbackSecret(
  deps: WriteDeps,
  target: SecretTarget & { version: number },
): Promise<SecretWriteResult> {
  const { environment, secret } = await requireSecret(deps, target);
  if (secret.deletedAt) throw new AppError("not_found", "secret not found");
  const source = await findVersion(deps.db, secret.id, target.version);
  if (!source || source.deletedAt) throw new AppError("not_found", "version not found");
  if (source.revokedAt || source.destroyedAt) {
    throw new AppError("gone", `version ${target.version} is revoked or destroyed`);
  }
  const value = await decryptVersion(
    deps,
    { projectId: target.projectId, environmentId: environment.id },
    secret,
    source,
  );
  const context = await changeContext(deps, target.projectId, environment);
  const planned = await planVersion(context, secret, {
    key: secret.key,
    value,
    actor: target.actor,
  });
  await landVersions(deps, environment.id, [planned]);
  return { key: secret.key, version: planned.version.version, created_at: context.at };
}

export async function revokeVersion(
  deps: WriteDeps,
  target: SecretTarget & { version: number },
): Promise<{ key: string; version: number; revoked_at: string }> {
  const { environment, secret } = await requireSecret(deps, target);
  const version = await findVersion(deps.db, secret.id, target.version);
  if (!version) throw new AppError("not_found", "version not found");
  if (version.destroyedAt) throw new AppError("gone", `version ${target.version} is destroyed`);
  if (version.revokedAt) {
    return { key: secret.key, version: version.version, revoked_at: version.revokedAt };
  }
  const at = nowIso(deps.now());
  await deps.land([
    markRevoked(deps.db, secret.id, version.version, at),
    bumpRevision(deps.db, environment.id),
  ]);
  return { key: secret.key, version: version.version, revoked_at: at };
}

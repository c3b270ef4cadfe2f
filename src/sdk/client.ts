// The Qalá client: typed methods for the HTTP API, using only fetch (Node,
// browsers, Workers; `fetcher` takes a service binding), with an environment
// cache, retries and typed errors. Shapes come from src/contract.
import type { z } from "zod";
import type {
  BulkChangeBodySchema,
  CreateProjectBodySchema,
  CreateTokenBodySchema,
  CreateTrustBodySchema,
  CreateUserBodySchema,
  Environment,
  ExportFormat,
  GrantBodySchema,
  Project,
  PutSecretBodySchema,
  SecretItem,
  SecretValue,
  SecretVersion,
  SecretWriteResult,
  UpdateProjectBodySchema,
} from "../contract/index.js";
import { EnvironmentCache, type CachedEnvironment } from "./environment-cache.js";
import { QalaError } from "./errors.js";
import { Transport, type TransportOptions } from "./transport.js";

export interface ClientOptions extends TransportOptions {
  /** How long a fetched environment is used without asking the server (default 30 s). */
  cacheTtlMs?: number;
  /** How old a cached environment may be when the server cannot answer (default 1 h). */
  maxStaleMs?: number;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Precondition {
  /** Write only if the current version is this one (check-and-set). */
  ifVersion?: number;
  /** Write only if the key does not exist. */
  ifAbsent?: boolean;
}

const enc = encodeURIComponent;
const query = (params: Record<string, string | number | boolean | undefined>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : "";
};

export function createClient(options: ClientOptions) {
  const transport = new Transport(options);
  const cache = new EnvironmentCache({
    ttlMs: options.cacheTtlMs ?? 30_000,
    maxStaleMs: options.maxStaleMs ?? 3_600_000,
  });
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => {
    const response = await transport.send(method, path, { body, headers });
    return (response.status === 204 ? undefined : await response.json()) as T;
  };
  const projectPath = (project: string) => `/v1/projects/${enc(project)}`;
  const envPath = (project: string, env: string) =>
    `${projectPath(project)}/environments/${enc(env)}`;
  const secretPath = (project: string, env: string, key?: string) =>
    `${envPath(project, env)}/secrets${key === undefined ? "" : `/${enc(key)}`}`;

  /** The whole environment as KEY → value, from the cache when fresh (see ClientOptions). */
  async function getEnvironment(project: string, env: string): Promise<CachedEnvironment> {
    return cache.get(
      `${project}/${env}`,
      async (etag) => {
        const response = await transport.send(
          "GET",
          `${envPath(project, env)}/export?format=json`,
          {
            headers: etag ? { "If-None-Match": etag } : {},
            accept: [304],
          },
        );
        if (response.status === 304) return "not-modified";
        const skipped = response.headers.get("Qala-Skipped-Keys");
        return {
          secrets: (await response.json()) as Record<string, string>,
          etag: response.headers.get("ETag") ?? "",
          fetchedAt: Date.now(),
          skipped: skipped ? skipped.split(",") : [],
        };
      },
      (error) => error instanceof QalaError && (error.status === 0 || error.status >= 500),
    );
  }

  return {
    health: () => call<{ status: "ok"; version: string }>("GET", "/health"),
    me: () =>
      call<{ principal: Record<string, unknown>; grants: Record<string, unknown>[] }>(
        "GET",
        "/v1/me",
      ),

    auth: {
      login: (email: string, password: string) =>
        call<TokenPair>("POST", "/v1/auth/login", { email, password }),
      refresh: (refreshToken: string) =>
        call<TokenPair>("POST", "/v1/auth/refresh", { refresh_token: refreshToken }),
      logout: (refreshToken: string) =>
        call<void>("POST", "/v1/auth/logout", { refresh_token: refreshToken }),
      oidc: (project: string, token: string, trust?: string) =>
        call<{ access_token: string; expires_in: number }>("POST", "/v1/auth/oidc", {
          project,
          token,
          trust,
        }),
    },

    projects: {
      list: (page: { limit?: number; cursor?: string } = {}) =>
        call<Page<Project>>("GET", `/v1/projects${query(page)}`),
      get: (project: string) => call<Project>("GET", projectPath(project)),
      create: (body: z.input<typeof CreateProjectBodySchema>) =>
        call<Project>("POST", "/v1/projects", body),
      update: (project: string, body: z.input<typeof UpdateProjectBodySchema>) =>
        call<Project>("PATCH", projectPath(project), body),
      delete: (project: string) => call<void>("DELETE", projectPath(project)),
    },

    environments: {
      list: (project: string) =>
        call<Page<Environment>>("GET", `${projectPath(project)}/environments`),
      create: (project: string, slug: string, name?: string) =>
        call<Environment>("POST", `${projectPath(project)}/environments`, { slug, name }),
      delete: (project: string, env: string, force = false) =>
        call<void>("DELETE", `${envPath(project, env)}${query({ force: force || undefined })}`),
    },

    secrets: {
      list: (
        project: string,
        env: string,
        opts: { values?: boolean; limit?: number; cursor?: string } = {},
      ) => call<Page<SecretItem>>("GET", `${secretPath(project, env)}${query(opts)}`),
      get: (project: string, env: string, key: string, version?: number) =>
        call<SecretValue>("GET", `${secretPath(project, env, key)}${query({ version })}`),
      set: async (
        project: string,
        env: string,
        key: string,
        body: z.input<typeof PutSecretBodySchema>,
        when: Precondition = {},
      ) => {
        const headers: Record<string, string> = {};
        if (when.ifVersion !== undefined) headers["If-Match"] = `"${when.ifVersion}"`;
        if (when.ifAbsent) headers["If-None-Match"] = "*";
        const result = await call<SecretWriteResult>(
          "PUT",
          secretPath(project, env, key),
          body,
          headers,
        );
        cache.invalidate(`${project}/${env}`);
        return result;
      },
      bulk: async (project: string, env: string, body: z.input<typeof BulkChangeBodySchema>) => {
        const result = await call<{ changed: number }>("PATCH", secretPath(project, env), body);
        cache.invalidate(`${project}/${env}`);
        return result;
      },
      delete: async (project: string, env: string, key: string, purge = false) => {
        await call<void>(
          "DELETE",
          `${secretPath(project, env, key)}${query({ purge: purge || undefined })}`,
        );
        cache.invalidate(`${project}/${env}`);
      },
      restore: (project: string, env: string, key: string) =>
        call<{ key: string; version: number }>("POST", `${secretPath(project, env, key)}/restore`),
      versions: (project: string, env: string, key: string) =>
        call<Page<SecretVersion>>("GET", `${secretPath(project, env, key)}/versions`),
      rollback: (project: string, env: string, key: string, version: number) =>
        call<SecretWriteResult>("POST", `${secretPath(project, env, key)}/rollback`, { version }),
      rotate: (project: string, env: string, key: string) =>
        call<SecretWriteResult>("POST", `${secretPath(project, env, key)}/rotate`),
      revoke: (project: string, env: string, key: string, version: number) =>
        call<{ key: string; version: number; revoked_at: string }>(
          "POST",
          `${secretPath(project, env, key)}/versions/${version}/revoke`,
        ),
    },

    getEnvironment,

    /** The environment rendered by the server (dotenv, json, yaml or shell). */
    export: async (project: string, env: string, format: ExportFormat = "dotenv") => {
      const response = await transport.send(
        "GET",
        `${envPath(project, env)}/export${query({ format })}`,
      );
      const skipped = response.headers.get("Qala-Skipped-Keys");
      return { body: await response.text(), skipped: skipped ? skipped.split(",") : [] };
    },

    tokens: {
      create: (project: string, body: z.input<typeof CreateTokenBodySchema>) =>
        call<{ id: string; token: string } & Record<string, unknown>>(
          "POST",
          `${projectPath(project)}/tokens`,
          body,
        ),
      list: (project: string) =>
        call<Page<Record<string, unknown>>>("GET", `${projectPath(project)}/tokens`),
      revoke: (project: string, id: string) =>
        call<void>("DELETE", `${projectPath(project)}/tokens/${enc(id)}`),
    },

    members: {
      list: (project: string) =>
        call<Page<Record<string, unknown>>>("GET", `${projectPath(project)}/members`),
      grant: (project: string, member: string, body: z.input<typeof GrantBodySchema>) =>
        call<Record<string, unknown>>(
          "PUT",
          `${projectPath(project)}/members/${enc(member)}`,
          body,
        ),
      revoke: (project: string, member: string) =>
        call<void>("DELETE", `${projectPath(project)}/members/${enc(member)}`),
    },

    roles: {
      list: (project: string) =>
        call<Page<Record<string, unknown>>>("GET", `${projectPath(project)}/roles`),
      create: (project: string, name: string, permissions: string[]) =>
        call<Record<string, unknown>>("POST", `${projectPath(project)}/roles`, {
          name,
          permissions,
        }),
    },

    trusts: {
      create: (project: string, body: z.input<typeof CreateTrustBodySchema>) =>
        call<Record<string, unknown>>("POST", `${projectPath(project)}/oidc-trusts`, body),
      list: (project: string) =>
        call<Page<Record<string, unknown>>>("GET", `${projectPath(project)}/oidc-trusts`),
      delete: (project: string, id: string) =>
        call<void>("DELETE", `${projectPath(project)}/oidc-trusts/${enc(id)}`),
    },

    accessReview: (project: string) =>
      call<{ items: Record<string, unknown>[] }>("GET", `${projectPath(project)}/access-review`),

    users: {
      create: (body: z.input<typeof CreateUserBodySchema>) =>
        call<Record<string, unknown>>("POST", "/v1/users", body),
      list: (page: { limit?: number; cursor?: string } = {}) =>
        call<Page<Record<string, unknown>>>("GET", `/v1/users${query(page)}`),
      disable: (id: string) => call<void>("DELETE", `/v1/users/${enc(id)}`),
    },

    teams: {
      create: (name: string) => call<{ id: string; name: string }>("POST", "/v1/teams", { name }),
      list: () => call<Page<{ id: string; name: string }>>("GET", "/v1/teams"),
      addMember: (team: string, user: string) =>
        call<void>("PUT", `/v1/teams/${enc(team)}/members/${enc(user)}`),
      removeMember: (team: string, user: string) =>
        call<void>("DELETE", `/v1/teams/${enc(team)}/members/${enc(user)}`),
    },

    instanceAudit: {
      list: (filter: { action?: string; actor?: string; limit?: number; cursor?: string } = {}) =>
        call<Page<Record<string, unknown>>>("GET", `/v1/audit${query(filter)}`),
      verify: () =>
        call<{ ok: boolean; events?: number; first_bad_seq?: number }>("GET", "/v1/audit/verify"),
    },

    keys: {
      list: (project: string) =>
        call<Page<Record<string, unknown>>>("GET", `${projectPath(project)}/keys`),
      rotate: (project: string, environment?: string) =>
        call<{ job: string }>("POST", `${projectPath(project)}/keys/rotate`, { environment }),
      job: (project: string, job: string) =>
        call<{ id: string; state: string; done: number; total: number }>(
          "GET",
          `${projectPath(project)}/keys/jobs/${enc(job)}`,
        ),
    },

    audit: {
      list: (
        project: string,
        filter: { action?: string; actor?: string; limit?: number; cursor?: string } = {},
      ) =>
        call<Page<Record<string, unknown>>>("GET", `${projectPath(project)}/audit${query(filter)}`),
      verify: (project: string) =>
        call<{ ok: boolean; events?: number; head?: string; first_bad_seq?: number }>(
          "GET",
          `${projectPath(project)}/audit/verify`,
        ),
    },
  };
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
}

export type QalaClient = ReturnType<typeof createClient>;

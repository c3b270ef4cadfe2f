// Request shapes of identity and access: sessions, users, teams, grants, roles,
// project tokens and OIDC trust policies.
import { z } from "zod";
import { PermissionSchema } from "./permissions.js";
import { SlugSchema } from "./schemas.js";

const NameSchema = z.string().trim().min(1).max(200);
const FutureTimestamp = z.iso.datetime({ offset: true });

export const LoginBodySchema = z.strictObject({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
});
export const RefreshBodySchema = z.strictObject({ refresh_token: z.string().min(1).max(512) });

export const CreateUserBodySchema = z.strictObject({
  email: z.email(),
  password: z.string().min(12, "must be at least 12 characters").max(1024).optional(),
  name: NameSchema.optional(),
  instance_role: z.enum(["admin", "member"]).optional(),
});

export const CreateTeamBodySchema = z.strictObject({ name: NameSchema });

export const RoleNameSchema = SlugSchema;
export const CreateRoleBodySchema = z.strictObject({
  name: RoleNameSchema,
  permissions: z.array(PermissionSchema).min(1),
});

export const GrantBodySchema = z.strictObject({
  role: RoleNameSchema,
  environments: z.array(SlugSchema).min(1).optional(),
  expires_at: FutureTimestamp.optional(),
});

export const CidrListSchema = z.array(z.string().min(1).max(64)).max(100);

export const ClientCertificateBindingSchema = z.array(
  z.union([
    z.strictObject({ sha256: z.string().regex(/^[0-9a-fA-F:]{64,95}$/) }),
    z.strictObject({ issuer: z.string().min(1).max(1000), serial: z.string().min(1).max(200) }),
  ]),
);

/** A role, or explicit permissions: exactly one. */
const roleOrPermissions = <T extends { role?: unknown; permissions?: unknown }>(b: T) =>
  (b.role === undefined) !== (b.permissions === undefined);
const ROLE_OR_PERMISSIONS = { message: "give exactly one of role or permissions", path: ["role"] };

export const CreateTokenBodySchema = z
  .strictObject({
    name: NameSchema,
    role: RoleNameSchema.optional(),
    permissions: z.array(PermissionSchema).min(1).optional(),
    environments: z.array(SlugSchema).min(1).optional(),
    expires_at: FutureTimestamp.optional(),
    ttl_seconds: z
      .number()
      .int()
      .min(60)
      .max(366 * 24 * 3600)
      .optional(),
    ip_allowlist: CidrListSchema.optional(),
    client_certificates: ClientCertificateBindingSchema.optional(),
  })
  .refine(roleOrPermissions, ROLE_OR_PERMISSIONS)
  .refine((b) => b.expires_at === undefined || b.ttl_seconds === undefined, {
    message: "give expires_at or ttl_seconds, not both",
    path: ["ttl_seconds"],
  });
export type CreateTokenBody = z.infer<typeof CreateTokenBodySchema>;

export const CreateTrustBodySchema = z
  .strictObject({
    issuer: z.url({ protocol: /^https?$/ }),
    audience: z.string().min(1).max(500),
    claims: z.record(z.string().min(1).max(100), z.string().min(1).max(1000)),
    role: RoleNameSchema.optional(),
    permissions: z.array(PermissionSchema).min(1).optional(),
    environments: z.array(SlugSchema).min(1).optional(),
    ttl_seconds: z.number().int().min(60).max(3600).default(900),
    allow_wildcard_subject: z.boolean().default(false),
    client_certificates: ClientCertificateBindingSchema.optional(),
  })
  .refine(roleOrPermissions, ROLE_OR_PERMISSIONS);
export type CreateTrustBody = z.infer<typeof CreateTrustBodySchema>;

export const OidcExchangeBodySchema = z.strictObject({
  project: z.string().min(1).max(100),
  token: z.string().min(1).max(16_384),
  trust: z.string().min(1).max(100).optional(),
});

export const SsoTokenBodySchema = z.strictObject({
  code: z.string().min(1).max(4096),
  code_verifier: z.string().min(43).max(128),
  redirect_uri: z.url(),
});

/** A user session: a short-lived access token and a rotating refresh token. */
export const TokenPairSchema = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal("Bearer"),
  expires_in: z.number(),
});

/** A workload's short-lived access token (OIDC exchange). */
export const AccessTokenSchema = z.object({
  access_token: z.string(),
  token_type: z.literal("Bearer"),
  expires_in: z.number(),
});

// Request and response shapes of the HTTP API, shared by server, SDK and CLI.
import { z } from "zod";
import {
  GENERATE_MAX_LENGTH,
  MAX_PAGE_SIZE,
  SECRET_KEY_PATTERN,
  SLUG_PATTERN,
  DEFAULT_PAGE_SIZE,
} from "./limits.js";

export const SlugSchema = z
  .string()
  .regex(SLUG_PATTERN, "must match ^[a-z0-9][a-z0-9-]{0,62}$ (lowercase letters, digits, '-')");
export const SecretKeySchema = z
  .string()
  .regex(SECRET_KEY_PATTERN, "must match ^[A-Za-z_][A-Za-z0-9_.-]{0,255}$");
const TimestampSchema = z.string().describe("RFC 3339 UTC");
const NameSchema = z.string().trim().min(1).max(200);

export const CHARSETS = ["alphanumeric", "base64url", "hex", "ascii"] as const;
export const CharsetSchema = z.enum(CHARSETS);
export type Charset = z.infer<typeof CharsetSchema>;

export const GenerateSpecSchema = z.strictObject({
  length: z.number().int().min(1).max(GENERATE_MAX_LENGTH).default(32),
  charset: CharsetSchema.default("alphanumeric"),
});
export type GenerateSpec = z.infer<typeof GenerateSpecSchema>;

/** Settings named by the contract; the server refuses those it does not enforce yet. */
export const ProjectSettingsSchema = z.strictObject({
  max_versions: z.number().int().min(1).optional(),
  deleted_retention_days: z.number().int().min(0).optional(),
  audit_retention_days: z.number().int().min(1).optional(),
  ip_allowlist: z.array(z.string()).optional(),
  require_encrypted_payloads: z.boolean().optional(),
  rate_limit: z
    .strictObject({
      requests_per_second: z.number().positive().max(100_000),
      burst: z.number().int().min(1).max(1_000_000),
    })
    .optional(),
});
export type ProjectSettings = z.infer<typeof ProjectSettingsSchema>;

export const CreateProjectBodySchema = z.strictObject({
  slug: SlugSchema,
  name: NameSchema.optional(),
  settings: ProjectSettingsSchema.optional(),
});
export const UpdateProjectBodySchema = z.strictObject({
  name: NameSchema.optional(),
  settings: ProjectSettingsSchema.optional(),
});
export const CreateEnvironmentBodySchema = z.strictObject({
  slug: SlugSchema,
  name: NameSchema.optional(),
});

/** A secret value: any well-formed Unicode text (a lone surrogate has no UTF-8 form). */
export const ValueSchema = z
  .string()
  .refine((v) => v.isWellFormed(), "must be well-formed Unicode (no lone surrogates)");

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Where a rotation webhook is called: https, or http on loopback (development and tests). */
export const WebhookUrlSchema = z
  .url()
  .max(2000)
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  }, "must be https (http only on loopback)");

const IntervalDaysSchema = z.number().int().min(1).max(3650);

/** A rotation policy: every `interval_days`, a generated value or one a signed webhook returns. */
export const RotationPolicySchema = z.union([
  z.strictObject({ interval_days: IntervalDaysSchema, generate: GenerateSpecSchema }),
  z.strictObject({
    interval_days: IntervalDaysSchema,
    webhook: z.strictObject({ url: WebhookUrlSchema }),
  }),
]);
export type RotationPolicy = z.infer<typeof RotationPolicySchema>;

export const RotationStateSchema = z.object({
  interval_days: z.number().int(),
  generate: GenerateSpecSchema.optional(),
  webhook: z.object({ url: z.string() }).optional(),
  last_rotated_at: z.string(),
  next_rotation_at: z.string(),
});

export const TagsSchema = z.array(z.string().min(1).max(64)).max(32);
export const NoteSchema = z.string().max(1000);

export const PutSecretBodySchema = z
  .strictObject({
    value: ValueSchema.optional(),
    generate: GenerateSpecSchema.optional(),
    tags: TagsSchema.optional(),
    note: NoteSchema.optional(),
    /** Sets the secret's rotation policy; null removes it; left out, it stays as it was. */
    rotation: RotationPolicySchema.nullable().optional(),
  })
  .refine((b) => (b.value === undefined) !== (b.generate === undefined), {
    message: "give exactly one of value or generate",
    path: ["value"],
  });
export type PutSecretBody = z.infer<typeof PutSecretBodySchema>;

export const BulkChangeBodySchema = z
  .strictObject({
    set: z.record(SecretKeySchema, ValueSchema).optional(),
    delete: z.array(SecretKeySchema).optional(),
  })
  .refine((b) => b.set !== undefined || b.delete !== undefined, {
    message: "give set, delete or both",
  });
export type BulkChangeBody = z.infer<typeof BulkChangeBodySchema>;

export const RollbackBodySchema = z.strictObject({ version: z.number().int().min(1) });

export const BootstrapBodySchema = z.strictObject({
  bootstrap_token: z.string().min(1),
  email: z.email(),
  password: z.string().min(12, "must be at least 12 characters").max(1024),
  name: NameSchema.optional(),
});

export const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(2048).optional(),
});

export const EXPORT_FORMATS = ["dotenv", "json", "yaml", "shell"] as const;
export const ExportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

const Flag = z.enum(["true", "false", "1", "0"]).optional();
export const isTrue = (flag: string | undefined) => flag === "true" || flag === "1";

export const SecretListQuerySchema = ListQuerySchema.extend({ values: Flag });
export const SecretGetQuerySchema = z.object({
  version: z.coerce.number().int().min(1).optional(),
});
export const ExportQuerySchema = z.object({ format: ExportFormatSchema.default("dotenv") });
export const DeleteQuerySchema = z.object({ purge: Flag });

// ---- responses ----

export const EnvironmentSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  position: z.number().int(),
  created_at: TimestampSchema,
});
export const ProjectSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  settings: ProjectSettingsSchema,
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  environments: z.array(EnvironmentSchema).optional(),
});
export const SecretItemSchema = z.object({
  key: z.string(),
  version: z.number().int(),
  updated_at: TimestampSchema,
  updated_by: z.string().nullable(),
  tags: z.array(z.string()),
  note: z.string().nullable(),
  revoked: z.boolean().optional(),
  value: z.string().optional(),
});
export const SecretValueSchema = z.object({
  key: z.string(),
  value: z.string(),
  version: z.number().int(),
  created_at: TimestampSchema,
  created_by: z.string().nullable(),
  tags: z.array(z.string()),
  note: z.string().nullable(),
});
export const SecretWriteResultSchema = z.object({
  key: z.string(),
  version: z.number().int(),
  created_at: TimestampSchema,
  rotation: RotationStateSchema.optional(),
  /** With a webhook policy: the project's key for checking `Qala-Signature` (HMAC-SHA256). */
  webhook_secret: z.string().optional(),
});
export const SecretVersionSchema = z.object({
  version: z.number().int(),
  created_at: TimestampSchema,
  created_by: z.string().nullable(),
  revoked_at: TimestampSchema.nullable(),
  destroyed_at: TimestampSchema.nullable(),
});
export const BulkChangeResultSchema = z.object({ changed: z.number().int() });
export const UserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  instance_role: z.enum(["admin", "member"]),
  created_at: TimestampSchema,
});

export function listSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}

export type Project = z.infer<typeof ProjectSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type SecretItem = z.infer<typeof SecretItemSchema>;
export type SecretValue = z.infer<typeof SecretValueSchema>;
export type SecretVersion = z.infer<typeof SecretVersionSchema>;
export type SecretWriteResult = z.infer<typeof SecretWriteResultSchema>;
export type User = z.infer<typeof UserSchema>;

// Input limits of the API contract (API.md "Conventions").
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const SECRET_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;
/** What a process environment (and a shell, and GitHub's runner) takes as a variable name. */
export const ENV_VAR_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A value is at most 64 KiB of UTF-8 bytes. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** A bulk change holds at most this many keys. */
export const MAX_BULK_KEYS = 1000;
/**
 * The values of one bulk change may add up to at most this many bytes: the
 * change crosses one Durable Object RPC (32 MiB) and lands in one D1 batch.
 */
export const MAX_BULK_BYTES = 16 * 1024 * 1024;
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
export const GENERATE_MAX_LENGTH = 4096;

/** Per principal and project, unless the project's `rate_limit` setting says otherwise. */
export const DEFAULT_RATE_LIMIT = { requests_per_second: 100, burst: 200 } as const;
/** What a revalidation that answers 304 costs, in requests. */
export const NOT_MODIFIED_COST = 0.25;

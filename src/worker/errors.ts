// One error type for everything the API answers on purpose: a public code and
// message (and details), with any internal cause kept for logs only.
import { ERROR_STATUS, type ErrorCode } from "../contract/index.js";

export interface PublicError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class AppError extends Error {
  override readonly name = "AppError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options.details;
  }

  static from(error: PublicError): AppError {
    return new AppError(error.code, error.message, { details: error.details });
  }

  toPublic(): PublicError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** What crosses a Durable Object RPC boundary: errors do not, result objects do. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: PublicError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message: string, details?: unknown): Result<never> => ({
  ok: false,
  error: { code, message, details },
});

export function unwrapResult<T>(result: Result<T>): T {
  if (!result.ok) throw AppError.from(result.error);
  return result.value;
}

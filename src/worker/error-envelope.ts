// The error envelope of API.md, with the headers some errors carry.
import type { ErrorEnvelope } from "../contract/index.js";
import type { AppError } from "./errors.js";

export function errorEnvelope(error: AppError, requestId: string) {
  const body: ErrorEnvelope = {
    error: {
      code: error.code,
      message: error.message,
      request_id: requestId,
      ...(error.details !== undefined ? { details: error.details } : {}),
    },
  };
  const headers: Record<string, string> = {};
  if (error.code === "rate_limited") {
    const wait = (error.details as { retry_after?: number } | undefined)?.retry_after ?? 1;
    headers["Retry-After"] = String(wait);
  }
  if (error.code === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="qala"';
  return { status: error.status, body, headers };
}

// Errors of the SDK: one class per failure, each with the server's public code
// and request id. Messages are the server's (which never quote a value) or ours.
export class QalaError extends Error {
  override readonly name: string = "QalaError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly requestId: string | null,
    /** Whether sending the same request again may succeed (429, 5xx, network). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export class AuthError extends QalaError {
  override readonly name = "AuthError";
}
export class NotFoundError extends QalaError {
  override readonly name = "NotFoundError";
}
export class ConflictError extends QalaError {
  override readonly name = "ConflictError";
}
export class RateLimitError extends QalaError {
  override readonly name = "RateLimitError";
  constructor(
    message: string,
    requestId: string | null,
    /** Seconds the server asked to wait. */
    readonly retryAfter: number,
  ) {
    super(message, 429, "rate_limited", requestId, true);
  }
}
export class NetworkError extends QalaError {
  override readonly name = "NetworkError";
  constructor(message: string) {
    super(message, 0, "network_error", null, true);
  }
}

interface Envelope {
  error?: { code?: string; message?: string; request_id?: string };
}

/** The error for a non-2xx answer, from the API's error envelope. */
export async function errorFrom(response: Response): Promise<QalaError> {
  let envelope: Envelope = {};
  try {
    envelope = (await response.json()) as Envelope;
  } catch {
    // not JSON: a proxy's answer, say
  }
  const status = response.status;
  const code = envelope.error?.code ?? (status >= 500 ? "unavailable" : "error");
  const message = envelope.error?.message ?? `HTTP ${status}`;
  const requestId = envelope.error?.request_id ?? response.headers.get("X-Request-Id");
  if (status === 429) {
    return new RateLimitError(message, requestId, retryAfterSeconds(response) ?? 1);
  }
  if (status === 401 || status === 403)
    return new AuthError(message, status, code, requestId, false);
  if (status === 404 || status === 410)
    return new NotFoundError(message, status, code, requestId, false);
  if (status === 409 || status === 412)
    return new ConflictError(message, status, code, requestId, false);
  return new QalaError(message, status, code, requestId, status >= 500);
}

/** Retry-After as seconds (delta-seconds or an HTTP date). */
export function retryAfterSeconds(response: Response): number | null {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

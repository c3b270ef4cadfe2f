// Sending a request: one fetch (or a service binding's fetch), a timeout per
// attempt, and retries only on network errors, 429 and 5xx, with exponential
// backoff and full jitter, honouring Retry-After, for a bounded number of attempts.
import type { JWK } from "jose";
import { NetworkError, QalaError, RateLimitError, errorFrom } from "./errors.js";
import { payloadCrypto, type PayloadCrypto } from "./payload-crypto.js";

export type FetchLike = (input: Request) => Promise<Response>;

export interface TransportOptions {
  /** Base URL, e.g. https://qala.example.com (ignored with `fetcher`). */
  url?: string;
  /** A service binding (or any fetch-like function): another Worker reaches Qalá with no network hop. */
  fetcher?: { fetch: FetchLike } | FetchLike;
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Attempts per request, the first included (default 4). */
  attempts?: number;
  /** Per-attempt timeout in ms (default 10,000). */
  timeoutMs?: number;
  /** Base of the exponential backoff in ms (default 100); a delay is random in [0, base·2^n]. */
  backoffMs?: number;
  /** Longest wait between attempts in ms (default 10,000), Retry-After included. */
  maxBackoffMs?: number;
  userAgent?: string;
  /**
   * Seal request bodies to the server's key and ask for sealed answers (JWE
   * over TLS; default true). Needed for projects that require it.
   */
  encryptPayloads?: boolean;
}

export interface SendOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Statuses that are answers, not errors (e.g. 304). */
  accept?: number[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/**
 * 429 and 503 mean nothing was done, so any request may be sent again; other
 * 5xx answers and network failures leave a change's outcome unknown, so only
 * reads are retried after them.
 */
function retryable(method: string, failure: QalaError): boolean {
  if (failure.status === 429 || failure.status === 503) return true;
  return failure.retryable && (method === "GET" || method === "HEAD");
}

export class Transport {
  readonly #options: TransportOptions;
  readonly #fetch: FetchLike;
  readonly #base: string;

  constructor(options: TransportOptions) {
    this.#options = options;
    const fetcher = options.fetcher;
    this.#fetch = fetcher
      ? typeof fetcher === "function"
        ? fetcher
        : (r) => fetcher.fetch(r)
      : (r) => fetch(r);
    if (!fetcher && !options.url) throw new TypeError("createClient needs url or fetcher");
    this.#base = (options.url ?? "https://qala.internal").replace(/\/+$/, "");
  }

  #crypto: Promise<PayloadCrypto> | undefined;

  /** Payload encryption, set up on first use (one JWKS fetch per client). */
  #payloads(): Promise<PayloadCrypto> | null {
    if (this.#options.encryptPayloads === false) return null;
    this.#crypto ??= payloadCrypto(async () => {
      let response: Response;
      try {
        const signal = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000);
        response = await this.#fetch(
          new Request(`${this.#base}/.well-known/jwks.json`, { signal }),
        );
      } catch (error) {
        throw new NetworkError(
          `fetching the server's keys failed: ${error instanceof Error ? error.name : "error"}`,
        );
      }
      if (!response.ok) throw await errorFrom(response);
      return (await response.json()) as { keys: JWK[] };
    });
    this.#crypto.catch(() => (this.#crypto = undefined));
    return this.#crypto;
  }

  async #token(): Promise<string | undefined> {
    const t = this.#options.token;
    return typeof t === "function" ? await t() : t;
  }

  async #attempt(method: string, path: string, send: SendOptions): Promise<Response> {
    const token = await this.#token();
    const headers: Record<string, string> = { Accept: "application/json", ...send.headers };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (this.#options.userAgent) headers["User-Agent"] = this.#options.userAgent;
    const payloads = await this.#payloads();
    let body = send.body === undefined ? undefined : JSON.stringify(send.body);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (payloads) {
      headers["Qala-Response-Key"] = payloads.responseKeyHeader;
      if (body !== undefined) {
        body = await payloads.seal(body);
        headers["Content-Type"] = "application/jose";
      }
    }
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? 10_000);
    const signal = send.signal ? AbortSignal.any([send.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await this.#fetch(
        new Request(`${this.#base}${path}`, { method, headers, body, signal }),
      );
    } catch (error) {
      if (send.signal?.aborted) throw send.signal.reason;
      const why = timeout.aborted ? "timed out" : "failed";
      throw new NetworkError(
        `${method} ${path} ${why}: ${error instanceof Error ? error.name : "error"}`,
      );
    }
    return payloads ? payloads.open(response) : response;
  }

  /** Sends with retries; resolves to the response (2xx or an accepted status), else throws a QalaError. */
  async send(method: string, path: string, options: SendOptions = {}): Promise<Response> {
    const attempts = Math.max(1, this.#options.attempts ?? 4);
    const base = this.#options.backoffMs ?? 100;
    const cap = this.#options.maxBackoffMs ?? 10_000;
    for (let n = 0; ; n++) {
      let failure: QalaError;
      try {
        const response = await this.#attempt(method, path, options);
        if (response.ok || options.accept?.includes(response.status)) return response;
        failure = await errorFrom(response);
      } catch (error) {
        if (!(error instanceof QalaError)) throw error;
        failure = error;
      }
      if (!retryable(method, failure) || n + 1 >= attempts) throw failure;
      const jitter = Math.random() * Math.min(cap, base * 2 ** n);
      const asked = failure instanceof RateLimitError ? failure.retryAfter * 1000 : 0;
      await sleep(Math.min(cap, Math.max(jitter, asked)), options.signal);
    }
  }
}

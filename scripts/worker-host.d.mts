// Types of worker-host.mjs for the TypeScript tests that use it.
export declare const root: string;
export declare function buildWorker(outDir: string): void;
export declare function hostWorker(options: {
  outDir: string;
  port?: number;
  bindings?: Record<string, string>;
  /** Miniflare options merged last (e.g. an inspector port). */
  extra?: Record<string, unknown>;
  /** Where D1 and Durable Object storage persist across hosts. */
  persistDir?: string;
  /** More workers (Miniflare worker options) beside Qalá, e.g. one bound to it. */
  companions?: Record<string, unknown>[];
}): Promise<{
  origin: string;
  bootstrapToken: string;
  /** The host's local D1, for tests that inspect what is at rest. */
  db: {
    prepare(sql: string): {
      bind(...values: unknown[]): { all<T = Record<string, unknown>>(): Promise<{ results: T[] }> };
      all<T = Record<string, unknown>>(): Promise<{ results: T[] }>;
    };
  };
  /** A companion worker's fetcher. */
  getWorker(name: string): Promise<{ fetch(url: string, init?: RequestInit): Promise<Response> }>;
  dispose(): Promise<void>;
}>;

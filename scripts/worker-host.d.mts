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
  dispose(): Promise<void>;
}>;

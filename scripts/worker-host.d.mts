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
}): Promise<{ origin: string; bootstrapToken: string; dispose(): Promise<void> }>;

// Types of worker-host.mjs for the TypeScript tests that use it.
export declare const root: string;
export declare function buildWorker(outDir: string): void;
export declare function hostWorker(options: {
  outDir: string;
  port?: number;
  bindings?: Record<string, string>;
}): Promise<{ origin: string; bootstrapToken: string; dispose(): Promise<void> }>;

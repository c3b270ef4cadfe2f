// Bindings the test configuration adds to the Worker's own.
import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../../src/worker/env.js";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      TEST_ISSUER_URL: string;
      TEST_WEBHOOK_URL: string;
    }
  }
}

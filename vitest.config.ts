// Two test projects: the Worker inside workerd, and clients (CLI, SDK) in Node.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Two master keys: `test2` is active, `test1` is retired (it can only unwrap). */
export const TEST_MASTER_KEY = [
  "test2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
  "test1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
].join(",");
export const TEST_BOOTSTRAP_TOKEN = "test-bootstrap-token";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                QALA_MASTER_KEY: TEST_MASTER_KEY,
                QALA_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN,
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
              },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["./test/worker/setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
    ],
  },
});

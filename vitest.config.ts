// Two test projects: the Worker inside workerd, and clients (CLI, SDK) in Node.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { SSO_CLIENT_ID, SSO_CLIENT_SECRET } from "./test/support/oidc-issuer.js";

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
          cloudflareTest(async ({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                QALA_MASTER_KEY: TEST_MASTER_KEY,
                QALA_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN,
                QALA_SSO_ISSUER: inject("issuerUrl"),
                QALA_SSO_CLIENT_ID: SSO_CLIENT_ID,
                QALA_SSO_CLIENT_SECRET: SSO_CLIENT_SECRET,
                QALA_SSO_ALLOWED_DOMAINS: "example.com",
                TEST_ISSUER_URL: inject("issuerUrl"),
                TEST_WEBHOOK_URL: inject("webhookUrl"),
                QALA_TEST_HOOKS: "1",
                QALA_CORS_ORIGINS: "https://dashboard.qala.test",
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
              },
            },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["./test/worker/setup.ts"],
          globalSetup: ["./test/support/global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/support/node-global-setup.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});

// For the Node tests (SDK, CLI): builds the Worker, hosts it on Miniflare over
// real HTTP on loopback, bootstraps it, and hands the URL and admin token over.
import type { TestProject } from "vitest/node";
import { spawnSync } from "node:child_process";
import { buildWorker, hostWorker, root } from "../../scripts/worker-host.mjs";
import { SSO_CLIENT_ID, SSO_CLIENT_SECRET, startTestIssuer } from "./oidc-issuer.js";

declare module "vitest" {
  interface ProvidedContext {
    qalaUrl: string;
    adminToken: string;
  }
}

export default async function setup(project: TestProject) {
  const cli = spawnSync("npm", ["run", "--silent", "build:cli"], { cwd: root, stdio: "inherit" });
  if (cli.status !== 0) throw new Error("building the CLI failed");
  buildWorker(".build/test-host");
  const issuer = await startTestIssuer();
  const host = await hostWorker({
    outDir: ".build/test-host",
    bindings: {
      QALA_SSO_ISSUER: issuer.url,
      QALA_SSO_CLIENT_ID: SSO_CLIENT_ID,
      QALA_SSO_CLIENT_SECRET: SSO_CLIENT_SECRET,
      QALA_SSO_ALLOWED_DOMAINS: "example.com",
    },
  });
  const res = await fetch(`${host.origin}/v1/bootstrap`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      bootstrap_token: host.bootstrapToken,
      email: "admin@example.com",
      password: "correct horse battery staple",
    }),
  });
  if (res.status !== 201) throw new Error(`bootstrap failed: ${res.status} ${await res.text()}`);
  const { api_token } = (await res.json()) as { api_token: string };
  project.provide("qalaUrl", host.origin);
  project.provide("adminToken", api_token);
  return async () => {
    await host.dispose();
    await issuer.close();
  };
}

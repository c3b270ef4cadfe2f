// Starts the loopback OIDC issuer once for the whole run and hands its URL to
// the Worker's test configuration and to the tests.
import type { TestProject } from "vitest/node";
import { startTestIssuer } from "./oidc-issuer.js";

declare module "vitest" {
  interface ProvidedContext {
    issuerUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const issuer = await startTestIssuer();
  project.provide("issuerUrl", issuer.url);
  return () => issuer.close();
}

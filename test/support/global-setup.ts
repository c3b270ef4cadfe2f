// Starts the loopback OIDC issuer and the rotation-webhook receiver once for
// the whole run and hands their URLs to the Worker's test configuration.
import type { TestProject } from "vitest/node";
import { startTestIssuer } from "./oidc-issuer.js";
import { startWebhookReceiver } from "./webhook-receiver.js";

declare module "vitest" {
  interface ProvidedContext {
    issuerUrl: string;
    webhookUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const issuer = await startTestIssuer();
  const webhooks = await startWebhookReceiver();
  project.provide("issuerUrl", issuer.url);
  project.provide("webhookUrl", webhooks.url);
  return async () => {
    await issuer.close();
    await webhooks.close();
  };
}

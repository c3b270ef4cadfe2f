// The GitHub Action: authenticates (an OIDC ID token from the runner,
// exchanged at /v1/auth/oidc, or a Qalá token), fetches the environment, masks
// every value it will export before anything else, then writes GITHUB_ENV
// and the step outputs. Bundled to dist/action.js (`npm run build:action`).
import * as core from "@actions/core";
import { QalaError, createClient } from "../sdk/index.js";
import { masksOf, parseSelection, select } from "./selection.js";

const USER_AGENT = "qala-github-action";

function inputs() {
  const url = core.getInput("url", { required: true });
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    throw new Error(`url is not a URL: ${url}`);
  }
  const method = core.getInput("method") || "oidc";
  if (method !== "oidc" && method !== "token") {
    throw new Error(`method must be "oidc" or "token", not "${method}"`);
  }
  const exportEnv = (core.getInput("export-env") || "true").toLowerCase();
  if (exportEnv !== "true" && exportEnv !== "false") {
    throw new Error(`export-env must be true or false, not "${exportEnv}"`);
  }
  return {
    url,
    project: core.getInput("project", { required: true }),
    environment: core.getInput("environment", { required: true }),
    method,
    token: core.getInput("token"),
    audience: core.getInput("audience") || origin,
    trust: core.getInput("trust") || undefined,
    selection: parseSelection(core.getInput("secrets")),
    exportEnv: exportEnv === "true",
  };
}

/**
 * Retries what may succeed on a second try (network errors, 5xx, 429). The
 * SDK retries a POST only on 429 and 503; a token exchange is safe to repeat.
 */
async function retrying<T>(what: string, run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const transient = error instanceof QalaError && error.retryable;
      if (!transient || attempt >= attempts) throw error;
      core.info(`${what} failed (${error.message}); trying again`);
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
}

async function accessToken(input: ReturnType<typeof inputs>): Promise<string> {
  if (input.method === "token") {
    if (!input.token) throw new Error('method "token" needs the `token` input');
    core.setSecret(input.token);
    return input.token;
  }
  if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    throw new Error(
      "no OIDC ID token is available: give the job `permissions: id-token: write` (or use method: token)",
    );
  }
  const idToken = await core.getIDToken(input.audience); // masks it too
  const client = createClient({ url: input.url, userAgent: USER_AGENT });
  const { access_token } = await retrying("the OIDC exchange", () =>
    client.auth.oidc(input.project, idToken, input.trust),
  );
  core.setSecret(access_token);
  return access_token;
}

export async function run(): Promise<void> {
  const input = inputs();
  const token = await accessToken(input);
  const client = createClient({ url: input.url, token, userAgent: USER_AGENT });
  // A GET: the SDK itself retries network errors, 429 and 5xx.
  const environment = await client.getEnvironment(input.project, input.environment);
  // Masks first, for every value fetched (chosen or not): nothing below may
  // print a value before the runner hides it.
  for (const value of Object.values(environment.secrets)) {
    for (const mask of masksOf(value)) core.setSecret(mask);
  }
  const chosen = select(environment.secrets, input.selection, environment.skipped);
  if (!input.selection && environment.skipped.length) {
    // A key asked for by name and revoked fails in select(); with "every key" it is left out.
    core.warning(`left out (current version revoked): ${environment.skipped.join(", ")}`);
  }
  for (const { name, value } of chosen) {
    if (input.exportEnv) core.exportVariable(name, value);
    core.setOutput(name, value);
  }
  core.info(
    `${chosen.length} secret(s) of ${input.project}/${input.environment}` +
      (input.exportEnv ? " exported to the environment and outputs" : " set as outputs"),
  );
}

run().catch((error: unknown) => {
  // SDK and input errors name keys and codes, never values.
  const message =
    error instanceof QalaError
      ? `${error.message} (${error.code}${error.requestId ? `, request ${error.requestId}` : ""})`
      : error instanceof Error
        ? error.message
        : "failed";
  core.setFailed(message);
});

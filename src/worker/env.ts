// Worker bindings (Env) and the Hono environment (AppEnv) of the app.
import type { AuthThrottle } from "./durable/auth-throttle.js";
import type { InstanceCoordinator } from "./durable/instance-coordinator.js";
import type { ProjectCoordinator } from "./durable/project-coordinator.js";
import type { Principal } from "./auth/principal.js";

export interface Env {
  DB: D1Database;
  PROJECT_COORDINATOR: DurableObjectNamespace<ProjectCoordinator>;
  AUTH_THROTTLE: DurableObjectNamespace<AuthThrottle>;
  INSTANCE_COORDINATOR: DurableObjectNamespace<InstanceCoordinator>;
  /** Comma-separated `id:base64(32 bytes)`; the first is active (the local key provider). */
  QALA_MASTER_KEY: string;
  /** `local` (default: QALA_MASTER_KEY) or `remote` (a Transit KMS: the three below). */
  QALA_KEY_PROVIDER?: string;
  /** The KMS's Vault address: Vault itself, or `<qala-url>/vault`. */
  QALA_KMS_URL?: string;
  QALA_KMS_TOKEN?: string;
  /** The Transit key that wraps this instance's keys. */
  QALA_KMS_KEY?: string;
  QALA_BOOTSTRAP_TOKEN: string;
  QALA_CORS_ORIGINS?: string;
  QALA_ISSUER?: string;
  /** SSO (OIDC authorization code + PKCE) against this identity provider. */
  QALA_SSO_ISSUER?: string;
  QALA_SSO_CLIENT_ID?: string;
  QALA_SSO_CLIENT_SECRET?: string;
  /** Comma-separated email domains whose users may sign in (and be created) by SSO. */
  QALA_SSO_ALLOWED_DOMAINS?: string;
  /** Only the test configuration binds this ("1"): it enables fault injection and clock moves. */
  QALA_TEST_HOOKS?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    principal: Principal;
    /** A project token left for the coordinator to check (one-call reads). */
    deferredToken?: string;
  };
}

// The few `sys` and `auth/token` endpoints Vault clients call around KV and
// Transit: the unauthenticated health probe, and the token's own description.
import { Hono } from "hono";
import type { AppEnv } from "../env.js";

/** `GET /v1/sys/health`: no token needed, as in Vault. */
export const healthRoute = new Hono<AppEnv>().get("/v1/sys/health", (c) =>
  c.json(
    {
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      server_time_utc: Math.floor(Date.now() / 1000),
      version: "qala",
      cluster_name: "qala",
    },
    200,
  ),
);

/** `GET /v1/auth/token/lookup-self`: who the token is, in Vault's shape. */
export const tokenRoutes = new Hono<AppEnv>().get("/v1/auth/token/lookup-self", (c) => {
  const principal = c.get("principal");
  return c.json(
    {
      request_id: c.get("requestId"),
      data: {
        accessor: "",
        display_name: `${principal.kind}-${principal.name}`,
        entity_id: principal.id,
        id: "",
        meta: {
          qala_principal: principal.kind,
          ...(principal.kind !== "user" && principal.projectId
            ? { qala_project: principal.projectId }
            : {}),
        },
        orphan: true,
        path: "auth/token/create",
        policies: ["default"],
        // No ttl: a Qalá token's expiry is in the Qalá API (GET /v1/projects/:p/tokens).
        renewable: false,
        type: "service",
      },
    },
    200,
  );
});

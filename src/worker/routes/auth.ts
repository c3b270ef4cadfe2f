// Sessions and identity: password login, refresh, logout, OIDC exchange, /v1/me.
import { createRoute, z } from "@hono/zod-openapi";
import {
  AccessTokenSchema,
  LoginBodySchema,
  TokenPairSchema,
  OidcExchangeBodySchema,
  RefreshBodySchema,
} from "../../contract/index.js";
import { exchangeOidcToken } from "../services/oidc-exchange.js";
import { describeMe } from "../services/me.js";
import { canonicalEmail, login, logout, refresh } from "../services/sessions.js";
import {
  assertNotThrottled,
  recordFailure,
  recordSuccess,
  throttleKeys,
} from "../services/throttle.js";
import { clientAddress } from "../auth/client-address.js";
import { AppError } from "../errors.js";
import {
  ERRORS,
  db,
  errorResponse,
  instanceAudit,
  json,
  jsonBody,
  jwtDeps,
  newRouter,
  noStore,
  recordProjectEvent,
} from "./router.js";
import { projectIdOf } from "../services/project-ids.js";

export const authRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/login",
      request: { body: jsonBody(LoginBodySchema) },
      responses: { 200: json(TokenPairSchema, "a session"), 401: errorResponse },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const keys = throttleKeys(clientAddress(c.req.raw.headers), canonicalEmail(body.email));
      // Throttled before any hashing: a locked-out key costs the server nothing.
      await assertNotThrottled(c.env, keys);
      let session;
      try {
        session = await login(jwtDeps(c), body);
      } catch (error) {
        if (error instanceof AppError && error.code === "unauthorized") {
          await recordFailure(c.env, keys);
          await instanceAudit(c, "auth.login", canonicalEmail(body.email), { result: "denied" });
        }
        throw error;
      }
      const { pair, user } = session;
      await instanceAudit(c, "auth.login", user.email, { actor: { kind: "user", id: user.id } });
      await recordSuccess(
        c.env,
        keys.filter((k) => k.startsWith("account:")),
      );
      noStore(c);
      return c.json(pair, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/refresh",
      request: { body: jsonBody(RefreshBodySchema) },
      responses: { 200: json(TokenPairSchema, "a new pair"), 401: errorResponse },
    }),
    async (c) => {
      let pair;
      try {
        pair = await refresh(jwtDeps(c), c.req.valid("json").refresh_token);
      } catch (error) {
        if (error instanceof AppError) {
          await instanceAudit(c, "auth.denied", "refresh", {
            result: "denied",
            details: { reason: error.message },
          });
        }
        throw error;
      }
      noStore(c);
      return c.json(pair, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/logout",
      request: { body: jsonBody(RefreshBodySchema) },
      responses: { 204: { description: "the session is over" } },
    }),
    async (c) => {
      await instanceAudit(c, "auth.logout", null);
      await logout(jwtDeps(c), c.req.valid("json").refresh_token);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/oidc",
      request: { body: jsonBody(OidcExchangeBodySchema) },
      responses: {
        200: json(AccessTokenSchema, "a short-lived access token for the project"),
        401: errorResponse,
        409: errorResponse,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      let exchanged;
      try {
        exchanged = await exchangeOidcToken(jwtDeps(c), body, c.req.raw.cf);
      } catch (error) {
        // A refused exchange is a denied request on that project, if it exists.
        const projectId = await projectIdOf(db(c), body.project);
        if (projectId && error instanceof AppError) {
          await recordProjectEvent(c, projectId, {
            action: "auth.denied",
            target: "oidc",
            result: "denied",
            details: { code: error.code },
          });
        }
        throw error;
      }
      await recordProjectEvent(c, exchanged.projectId, {
        actor: { kind: "oidc", id: exchanged.trustId },
        action: "auth.login",
        target: exchanged.subject,
        result: "ok",
      });
      noStore(c);
      return c.json(exchanged.answer, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/me",
      responses: {
        200: json(z.record(z.string(), z.unknown()), "who you are and your grants"),
        ...ERRORS,
      },
    }),
    async (c) => c.json(await describeMe(db(c), c.get("principal")), 200),
  );

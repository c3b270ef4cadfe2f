// SSO routes: start (redirect to the IdP), the browser callback, and the CLI's code exchange.
import { createRoute, z } from "@hono/zod-openapi";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SsoTokenBodySchema, TokenPairSchema } from "../../contract/index.js";
import { AppError } from "../errors.js";
import { issuerOf } from "../middleware/authenticate.js";
import {
  COOKIE,
  completeLogin,
  isLoopbackRedirect,
  openBrowserCookie,
  ssoConfig,
  startBrowser,
  startLoopback,
} from "../services/sso.js";
import {
  errorResponse,
  instanceAudit,
  json,
  jsonBody,
  jwtDeps,
  newRouter,
  noStore,
} from "./router.js";

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const CALLBACK_PATH = "/v1/auth/sso/callback";

/** Where the browser may be sent back to: this server's origin or a configured CORS origin. */
function allowedReturn(c: Parameters<typeof issuerOf>[0], uri: string): boolean {
  try {
    const origin = new URL(uri).origin;
    const allowed = (c.env.QALA_CORS_ORIGINS ?? "").split(",").map((o) => o.trim());
    return origin === new URL(issuerOf(c)).origin || allowed.includes(origin);
  } catch {
    return false;
  }
}

export const ssoRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/auth/sso/start",
      request: {
        query: z.object({
          redirect_uri: z.url().optional(),
          code_challenge: z.string().regex(CHALLENGE).optional(),
          state: z.string().max(512).optional(),
        }),
      },
      responses: {
        302: { description: "to the identity provider" },
        404: errorResponse,
        422: errorResponse,
      },
    }),
    async (c) => {
      const config = ssoConfig(c.env);
      const q = c.req.valid("query");
      if (q.redirect_uri && isLoopbackRedirect(q.redirect_uri)) {
        if (!q.code_challenge) {
          throw new AppError(
            "validation_failed",
            "a loopback login needs a PKCE code_challenge (S256)",
            {
              details: [{ path: ["code_challenge"], message: "required for loopback redirects" }],
            },
          );
        }
        return c.redirect(
          await startLoopback(config, {
            redirectUri: q.redirect_uri,
            codeChallenge: q.code_challenge,
            state: q.state,
          }),
          302,
        );
      }
      if (q.redirect_uri && !allowedReturn(c, q.redirect_uri)) {
        throw new AppError("validation_failed", "redirect_uri is not an allowed origin", {
          details: [
            { path: ["redirect_uri"], message: "not this server or a QALA_CORS_ORIGINS origin" },
          ],
        });
      }
      const { location, cookie } = await startBrowser(jwtDeps(c), config, {
        callback: `${issuerOf(c)}${CALLBACK_PATH}`,
        returnTo: q.redirect_uri ?? null,
      });
      setCookie(c, COOKIE, cookie, {
        httpOnly: true,
        secure: true,
        sameSite: "Lax",
        path: "/v1/auth/sso",
        maxAge: 600,
      });
      return c.redirect(location, 302);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: CALLBACK_PATH,
      request: { query: z.object({ code: z.string().min(1), state: z.string().min(1) }) },
      responses: {
        200: json(TokenPairSchema, "a session"),
        302: { description: "back to the app" },
        401: errorResponse,
      },
    }),
    async (c) => {
      const config = ssoConfig(c.env);
      const { code, state } = c.req.valid("query");
      const cookie = getCookie(c, COOKIE);
      if (!cookie) throw new AppError("unauthorized", "no SSO login is in progress; start again");
      const deps = jwtDeps(c);
      const flow = await openBrowserCookie(deps, cookie, state);
      const { pair, user } = await completeLogin(deps, config, {
        code,
        verifier: flow.verifier,
        redirectUri: `${issuerOf(c)}${CALLBACK_PATH}`,
        nonce: flow.nonce,
      });
      await instanceAudit(c, "auth.login", user.email, {
        actor: { kind: "user", id: user.id },
        details: { method: "sso" },
      });
      deleteCookie(c, COOKIE, { path: "/v1/auth/sso", secure: true });
      noStore(c);
      if (flow.return_to) {
        const fragment = new URLSearchParams({
          access_token: pair.access_token,
          refresh_token: pair.refresh_token,
          expires_in: String(pair.expires_in),
        });
        return c.redirect(`${flow.return_to}#${fragment}`, 302);
      }
      return c.json(pair, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/sso/token",
      request: { body: jsonBody(SsoTokenBodySchema) },
      responses: {
        200: json(TokenPairSchema, "a session"),
        401: errorResponse,
        403: errorResponse,
      },
    }),
    async (c) => {
      const config = ssoConfig(c.env);
      const body = c.req.valid("json");
      if (!isLoopbackRedirect(body.redirect_uri)) {
        throw new AppError("validation_failed", "redirect_uri must be a loopback address", {
          details: [{ path: ["redirect_uri"], message: "not a loopback address" }],
        });
      }
      const { pair, user } = await completeLogin(jwtDeps(c), config, {
        code: body.code,
        verifier: body.code_verifier,
        redirectUri: body.redirect_uri,
      });
      await instanceAudit(c, "auth.login", user.email, {
        actor: { kind: "user", id: user.id },
        details: { method: "sso" },
      });
      noStore(c);
      return c.json(pair, 200);
    },
  );

// Project API tokens (service accounts) and OIDC trust policies.
import { createRoute, z } from "@hono/zod-openapi";
import { CreateTokenBodySchema, CreateTrustBodySchema } from "../../contract/index.js";
import { projectTokens, projectTrusts } from "../db/access.js";
import { settle } from "../durable/coordinator-client.js";
import {
  checkCidrs,
  checkGrantable,
  checkTrustPolicy,
  expiryOf,
} from "../services/access-admin.js";
import { tokenView, trustView } from "../services/access-writes.js";
import {
  ERRORS,
  ProjectParams,
  actor,
  audit,
  db,
  errorResponse,
  json,
  jsonBody,
  newRouter,
  noStore,
  projectFor,
  unpaged,
  unpagedSchema,
} from "./router.js";

const TokenSchema = z.record(z.string(), z.unknown());
const TokenParams = ProjectParams.extend({ id: z.string().regex(/^tok_[a-z2-7]+$/) });
const TrustParams = ProjectParams.extend({ id: z.string().regex(/^trust_[a-z2-7]+$/) });
const list = unpagedSchema(TokenSchema);

export const tokenRoutes = newRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/projects/{project}/tokens",
      request: { params: ProjectParams, body: jsonBody(CreateTokenBodySchema) },
      responses: {
        201: json(TokenSchema, "the token, shown only here"),
        403: errorResponse,
        ...ERRORS,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { projectId, stub, access } = await projectFor(
        c,
        c.req.valid("param").project,
        "tokens:manage",
      );
      checkCidrs(body.ip_allowlist);
      const spec = {
        role: body.role ?? null,
        permissions: body.permissions ?? null,
        environments: body.environments ?? null,
        expiresAt: expiryOf(body),
      };
      await checkGrantable(db(c), projectId, access, spec);
      const created = await settle(
        stub.createToken(
          {
            projectId,
            name: body.name,
            ...spec,
            ipAllowlist: body.ip_allowlist ?? null,
            clientCertificates: body.client_certificates ?? null,
            actor: actor(c),
          },
          audit(c, body.name),
        ),
      );
      noStore(c);
      return c.json(created, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/tokens",
      request: { params: ProjectParams },
      responses: { 200: json(list, "tokens, never their secrets"), ...ERRORS },
    }),
    async (c) => {
      const { projectId } = await projectFor(
        c,
        c.req.valid("param").project,
        "tokens:manage",
        "token.list",
      );
      const rows = await projectTokens(db(c), projectId);
      return c.json(unpaged(rows.map(tokenView)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/projects/{project}/tokens/{id}",
      request: { params: TokenParams },
      responses: { 204: { description: "revoked" }, ...ERRORS },
    }),
    async (c) => {
      const { project, id } = c.req.valid("param");
      const { projectId, stub } = await projectFor(c, project, "tokens:manage");
      await settle(stub.revokeToken({ projectId, tokenId: id }, audit(c, id)));
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/v1/projects/{project}/oidc-trusts",
      request: { params: ProjectParams, body: jsonBody(CreateTrustBodySchema) },
      responses: { 201: json(TokenSchema, "the trust policy"), 403: errorResponse, ...ERRORS },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { projectId, stub, access } = await projectFor(
        c,
        c.req.valid("param").project,
        "tokens:manage",
      );
      checkTrustPolicy(body);
      const spec = {
        role: body.role ?? null,
        permissions: body.permissions ?? null,
        environments: body.environments ?? null,
        expiresAt: null,
      };
      await checkGrantable(db(c), projectId, access, spec);
      const trust = await settle(
        stub.addTrust(
          {
            projectId,
            issuer: body.issuer.replace(/\/+$/, ""),
            audience: body.audience,
            claims: body.claims,
            role: spec.role,
            permissions: spec.permissions,
            environments: spec.environments,
            ttlSeconds: body.ttl_seconds,
            allowWildcardSubject: body.allow_wildcard_subject,
            clientCertificates: body.client_certificates ?? null,
            actor: actor(c),
          },
          audit(c, body.issuer),
        ),
      );
      return c.json(trust, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/oidc-trusts",
      request: { params: ProjectParams },
      responses: { 200: json(list, "trust policies"), ...ERRORS },
    }),
    async (c) => {
      const { projectId } = await projectFor(
        c,
        c.req.valid("param").project,
        "tokens:manage",
        "trust.list",
      );
      const rows = await projectTrusts(db(c), projectId);
      return c.json(unpaged(rows.map(trustView)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/v1/projects/{project}/oidc-trusts/{id}",
      request: { params: TrustParams },
      responses: { 204: { description: "deleted" }, ...ERRORS },
    }),
    async (c) => {
      const { project, id } = c.req.valid("param");
      const { projectId, stub } = await projectFor(c, project, "tokens:manage");
      await settle(stub.removeTrust({ projectId, trustId: id }, audit(c, id)));
      return c.body(null, 204);
    },
  );

// The audit log of a project: listing (newest first, filtered, including events
// not yet flushed to D1) and chain verification.
import { createRoute, z } from "@hono/zod-openapi";
import type { ChainedEvent } from "../audit/event.js";
import { settle } from "../durable/coordinator-client.js";
import { decodeCursor, encodeCursor } from "../services/pagination.js";
import { instanceCoordinator } from "../services/instance-audit.js";
import {
  ERRORS,
  ProjectParams,
  json,
  newRouter,
  projectFor,
  requireInstanceAdmin,
} from "./router.js";

export const AuditQuerySchema = z.object({
  action: z.string().max(100).optional(),
  actor: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(100).optional(),
});
const EventSchema = z.record(z.string(), z.unknown());
const VerifySchema = z.union([
  z.object({
    ok: z.literal(true),
    events: z.number(),
    head: z.string(),
    checkpoint: z
      .object({ seq: z.number(), hash: z.string(), pruned_at: z.string() })
      .nullable()
      .describe("set when retention pruned the chain: it starts after this signed point"),
  }),
  z.object({ ok: z.literal(false), first_bad_seq: z.number(), reason: z.string() }),
]);

export const eventView = (e: ChainedEvent) => ({
  seq: e.seq,
  ts: e.ts,
  actor: e.actor,
  action: e.action,
  target: e.target,
  result: e.result,
  ip: e.ip,
  user_agent: e.user_agent,
  request_id: e.request_id,
  details: e.details,
  hash: e.hash,
});

/** Query → filter, with times normalized to the stored form (UTC, milliseconds). */
export function auditFilter(q: z.infer<typeof AuditQuerySchema>) {
  const iso = (t?: string) => (t ? new Date(Date.parse(t)).toISOString() : undefined);
  return {
    action: q.action,
    actor: q.actor,
    since: iso(q.since),
    until: iso(q.until),
    beforeSeq: decodeCursor<number>(q.cursor, "number"),
  };
}

export function auditPage(events: ChainedEvent[], limit: number) {
  const more = events.length > limit;
  const items = events.slice(0, limit);
  return {
    items: items.map(eventView),
    next_cursor: more && items.length ? encodeCursor(items.at(-1)!.seq) : null,
  };
}

export const auditRoutes = newRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/audit",
      request: { params: ProjectParams, query: AuditQuerySchema },
      responses: {
        200: json(
          z.object({ items: z.array(EventSchema), next_cursor: z.string().nullable() }),
          "events, newest first",
        ),
        ...ERRORS,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const { projectId, stub } = await projectFor(
        c,
        c.req.valid("param").project,
        "audit:read",
        "audit.read",
      );
      const events = await settle(stub.listAudit(projectId, auditFilter(q), q.limit + 1));
      return c.json(auditPage(events as ChainedEvent[], q.limit), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/projects/{project}/audit/verify",
      request: { params: ProjectParams },
      responses: { 200: json(VerifySchema, "ok, or the first bad seq"), ...ERRORS },
    }),
    async (c) => {
      const { projectId, stub } = await projectFor(
        c,
        c.req.valid("param").project,
        "audit:read",
        "audit.verify",
      );
      return c.json(await settle(stub.verifyAudit(projectId)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/audit",
      request: { query: AuditQuerySchema },
      responses: {
        200: json(
          z.object({ items: z.array(EventSchema), next_cursor: z.string().nullable() }),
          "instance events, newest first",
        ),
        ...ERRORS,
      },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      const q = c.req.valid("query");
      const { value } = await instanceCoordinator(c.env).list(auditFilter(q), q.limit + 1);
      return c.json(auditPage(value as ChainedEvent[], q.limit), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/v1/audit/verify",
      responses: { 200: json(VerifySchema, "ok, or the first bad seq"), ...ERRORS },
    }),
    async (c) => {
      requireInstanceAdmin(c);
      return c.json((await instanceCoordinator(c.env).verify()).value, 200);
    },
  );

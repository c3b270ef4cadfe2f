// GET .../export: the whole environment as dotenv, JSON, YAML or shell.
import { createRoute, z } from "@hono/zod-openapi";
import { ExportFormatSchema } from "../../contract/index.js";
import { environmentEtag, etagMatches } from "../services/etag.js";
import { renderEnvironment } from "../services/export-format.js";
import { readEnvironment } from "../services/secrets-read.js";
import { ERRORS, EnvParams, environmentFor, newRouter, noStore, readDeps } from "./router.js";

export const exportRoutes = newRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project}/environments/{env}/export",
    request: {
      params: EnvParams,
      query: z.object({ format: ExportFormatSchema.default("dotenv") }),
    },
    responses: {
      200: {
        description: "the rendered environment",
        content: { "text/plain": { schema: z.string() } },
      },
      304: { description: "unchanged since If-None-Match" },
      ...ERRORS,
    },
  }),
  async (c) => {
    const { project, env } = c.req.valid("param");
    const { format } = c.req.valid("query");
    const scope = await environmentFor(c, { project, env }, "secrets:read");
    const etag = environmentEtag(
      scope.environment.id,
      scope.environment.revision,
      `export-${format}`,
    );
    noStore(c);
    c.header("ETag", etag);
    if (etagMatches(c.req.header("If-None-Match"), etag)) return c.body(null, 304);
    const { values, skipped } = await readEnvironment(readDeps(c), scope);
    const rendered = renderEnvironment(format, values);
    const left = [...skipped, ...rendered.skipped];
    if (left.length) c.header("Qala-Skipped-Keys", left.join(","));
    c.header("Content-Type", rendered.contentType);
    return c.body(rendered.body, 200);
  },
);

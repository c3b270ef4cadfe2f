// GET .../export: the whole environment as dotenv, JSON, YAML or shell.
import { createRoute, z } from "@hono/zod-openapi";
import { ExportQuerySchema } from "../../contract/index.js";
import { exportBody } from "../services/read-views.js";
import { decryptRows } from "../services/sealed-rows.js";
import { coordinatedRead } from "./coordinated-read.js";
import { checkSealedResponse } from "../services/encryption-policy.js";
import { ERRORS, EnvParams, newRouter, noStore, responseKey } from "./router.js";
import { keySource } from "../key-providers/index.js";

export const exportRoutes = newRouter().openapi(
  createRoute({
    method: "get",
    path: "/v1/projects/{project}/environments/{env}/export",
    request: { params: EnvParams, query: ExportQuerySchema },
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
    const answer = await coordinatedRead(
      c,
      { project, env },
      { kind: "export", environment: env, format },
    );
    noStore(c);
    c.header("ETag", answer.etag);
    if (answer.notModified) return c.body(null, 304);
    checkSealedResponse(answer.requireEncryptedPayloads, responseKey(c));
    const plain = await decryptRows(keySource(c.env), answer, answer.rows, answer.keks);
    const rendered = exportBody(format, answer, plain);
    if (rendered.skipped.length) c.header("Qala-Skipped-Keys", rendered.skipped.join(","));
    c.header("Content-Type", rendered.contentType);
    return c.body(rendered.body, 200);
  },
);

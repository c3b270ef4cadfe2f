// A read with a project API token: one RPC to the project's coordinator, which
// authenticates, authorizes, rate-limits and audits. The slug → id map is per
// isolate; a slug whose project was deleted (and perhaps created again) is
// looked up afresh.
import type { Db } from "../db/client.js";
import { coordinator } from "../durable/coordinator-client.js";
import type {
  CoordinatorAnswer,
  ReadAnswer,
  ReadRequest,
  ReadWhat,
  TlsInfo,
} from "../durable/read-model.js";
import type { Env } from "../env.js";
import { AppError, unwrapResult, type Result } from "../errors.js";
import { forgetProjectId, projectIdOf } from "./project-ids.js";

export type ReadBase = Omit<ReadRequest, "projectId" | "credential" | "what">;

/**
 * `tls` reads the request's client certificate; it is called only when the
 * token turns out to be bound to certificates (then the coordinator is asked again).
 */
export async function readWithToken(
  deps: { db: Db; env: Env },
  token: string,
  tls: () => TlsInfo | null,
  project: string,
  what: ReadWhat,
  base: ReadBase,
): Promise<ReadAnswer> {
  let certificate: TlsInfo | null | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const projectId = await projectIdOf(deps.db, project);
    if (!projectId) throw new AppError("not_found", "project not found");
    const result = (await coordinator(deps.env, projectId).read({
      ...base,
      projectId,
      credential: { kind: "token", token, tls: certificate },
      what,
    })) as Result<CoordinatorAnswer>;
    if (result.ok && "tlsNeeded" in result.value) {
      if (certificate !== undefined)
        throw new Error("the coordinator asked twice for the certificate");
      certificate = tls();
      continue;
    }
    const stale =
      !result.ok &&
      result.error.code === "not_found" &&
      result.error.message === "project not found";
    if (!stale) return unwrapResult(result as Result<ReadAnswer>);
    forgetProjectId(project);
  }
  throw new AppError("not_found", "project not found");
}

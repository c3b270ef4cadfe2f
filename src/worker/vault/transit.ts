// Transit (encryption as a service) with Vault's paths and shapes: the keys of
// the calling token's project, `transit:manage` to create and rotate them,
// `transit:encrypt` / `transit:decrypt` to use them. Every call is one audit
// event in the project's chain, recorded before the answer (fail-closed).
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { Permission } from "../../contract/index.js";
import { keySource } from "../key-providers/index.js";
import { settle } from "../durable/coordinator-client.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { audit, db, projectFor, recordProjectEvent } from "../routes/router.js";
import {
  TRANSIT_KEY_NAME,
  decrypt,
  describeKey,
  encrypt,
  keyVersions,
} from "../services/transit.js";

const EncryptBody = z.object({
  plaintext: z.string(),
  associated_data: z.string().optional(),
  context: z.string().optional(),
});
const DecryptBody = z.object({
  ciphertext: z.string(),
  associated_data: z.string().optional(),
  context: z.string().optional(),
});
const CreateBody = z.object({ type: z.string().optional() }).passthrough();

/** The key name of the path, and the token's project authorized for `permission`. */
async function scope(c: Context<AppEnv>, permission: Permission) {
  const name = c.req.param("name") ?? "";
  if (!TRANSIT_KEY_NAME.test(name)) throw new AppError("bad_request", "invalid key name");
  const principal = c.get("principal");
  const projectId = principal.kind === "user" ? null : principal.projectId;
  if (!projectId) {
    throw new AppError("bad_request", "transit keys belong to a project: use a project token");
  }
  const { stub } = await projectFor(c, projectId, permission);
  return { name, projectId, stub, target: `transit/${name}` };
}

async function body<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await c.req.json().catch(() => null));
  if (!parsed.success) throw new AppError("bad_request", "invalid request body");
  return parsed.data;
}

const deps = (c: Context<AppEnv>) => ({ db: db(c), masterKey: keySource(c.env) });

export const transitRoutes = new Hono<AppEnv>()
  .post("/v1/transit/keys/:name", async (c) => {
    const { type } = await body(c, CreateBody);
    if (type !== undefined && type !== "aes256-gcm96") {
      throw new AppError("bad_request", `key type ${type} is not supported (aes256-gcm96 is)`);
    }
    const { name, projectId, stub, target } = await scope(c, "transit:manage");
    await settle(stub.createTransitKey({ projectId, name }, audit(c, target)));
    return c.body(null, 204);
  })
  .get("/v1/transit/keys/:name", async (c) => {
    const { name, projectId, target } = await scope(c, "transit:manage");
    const versions = await keyVersions(db(c), projectId, name);
    if (!versions.length) throw new AppError("not_found", "no such key");
    await recordProjectEvent(c, projectId, { action: "transit.key.read", target, result: "ok" });
    return c.json({ data: describeKey(name, versions) }, 200);
  })
  .post("/v1/transit/keys/:name/rotate", async (c) => {
    const { name, projectId, stub, target } = await scope(c, "transit:manage");
    await settle(stub.rotateTransitKey({ projectId, name }, audit(c, target)));
    return c.json({ data: describeKey(name, await keyVersions(db(c), projectId, name)) }, 200);
  })
  .post("/v1/transit/encrypt/:name", async (c) => {
    const input = await body(c, EncryptBody);
    const { name, projectId, target } = await scope(c, "transit:encrypt");
    const result = await audited(c, projectId, "transit.encrypt", target, () =>
      encrypt(deps(c), {
        projectId,
        name,
        plaintext: input.plaintext,
        aad: input.associated_data ?? input.context,
      }),
    );
    return c.json({ data: result }, 200);
  })
  .post("/v1/transit/decrypt/:name", async (c) => {
    const input = await body(c, DecryptBody);
    const { name, projectId, target } = await scope(c, "transit:decrypt");
    const result = await audited(c, projectId, "transit.decrypt", target, () =>
      decrypt(deps(c), {
        projectId,
        name,
        ciphertext: input.ciphertext,
        aad: input.associated_data ?? input.context,
      }),
    );
    return c.json({ data: result }, 200);
  });

/** Runs a Transit operation and records its event (ok or error) before answering. */
async function audited<T>(
  c: Context<AppEnv>,
  projectId: string,
  action: string,
  target: string,
  run: () => Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (error) {
    const code = error instanceof AppError ? error.code : "internal_error";
    await recordProjectEvent(c, projectId, { action, target, result: "error", details: { code } });
    throw error;
  }
  await recordProjectEvent(c, projectId, { action, target, result: "ok" });
  return result;
}

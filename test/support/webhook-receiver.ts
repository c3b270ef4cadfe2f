// A rotation-webhook receiver on loopback for tests (Node). Each hook name has
// a behaviour set through POST /control/<name> (`fail`: answer 500 that many
// times first; `status`: always answer it; `value`: the value prefix) and
// records what it received (GET /received/<name>: signature header and body).
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

interface Behaviour {
  fail?: number;
  status?: number;
  value?: string;
}

async function text(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startWebhookReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const behaviours = new Map<string, Behaviour>();
  const received = new Map<string, { signature: string | null; body: string }[]>();
  const server = createServer(async (req, res) => {
    const [, kind, name = ""] = (req.url ?? "").split("/");
    const body = await text(req);
    const send = (status: number, answer: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(answer));
    };
    if (kind === "control") {
      behaviours.set(name, JSON.parse(body) as Behaviour);
      received.set(name, []);
      return send(200, { ok: true });
    }
    if (kind === "received") return send(200, received.get(name) ?? []);
    const calls = received.get(name) ?? [];
    calls.push({ signature: req.headers["qala-signature"]?.toString() ?? null, body });
    received.set(name, calls);
    const behaviour = behaviours.get(name) ?? {};
    if (behaviour.status) return send(behaviour.status, { error: "configured" });
    if ((behaviour.fail ?? 0) >= calls.length) return send(500, { error: "not yet" });
    return send(200, { value: `${behaviour.value ?? "rotated"}-${calls.length}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// `qala login --sso`: OIDC authorization code + PKCE through the browser, with
// the code delivered to a one-shot HTTP server on a loopback address (RFC 8252).
import { spawn } from "node:child_process";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { TokenPair } from "../sdk/index.js";

const LOGIN_TIMEOUT_MS = 5 * 60 * 1000;
const b64url = (bytes: Buffer) => bytes.toString("base64url");

function openInBrowser(url: string) {
  const command =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "start" : "xdg-open";
  const child = spawn(command, [url], { stdio: "ignore", detached: true });
  child.on("error", () => undefined); // no browser here: the URL was printed
  child.unref();
}

export async function ssoLogin(server: string, options: { browser: boolean }): Promise<TokenPair> {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  const state = b64url(randomBytes(16));
  let finish: (code: string) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const received = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const callback = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const code = url.searchParams.get("code");
    const returned = Buffer.from(url.searchParams.get("state") ?? "");
    const expected = Buffer.from(state);
    if (url.pathname !== "/callback" || !code) {
      res.writeHead(404).end();
      return;
    }
    if (returned.length !== expected.length || !timingSafeEqual(returned, expected)) {
      res
        .writeHead(400, { "Content-Type": "text/plain" })
        .end("The login state does not match; start again.");
      fail(new Error("the SSO login state did not match"));
      return;
    }
    res
      .writeHead(200, { "Content-Type": "text/plain" })
      .end("Logged in to Qalá. You may close this window.");
    finish(code);
  });
  await new Promise<void>((resolve) => callback.listen(0, "127.0.0.1", resolve));
  const redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  const start = new URL("/v1/auth/sso/start", server);
  start.searchParams.set("redirect_uri", redirectUri);
  start.searchParams.set("code_challenge", challenge);
  start.searchParams.set("state", state);
  process.stderr.write(`Open this address to log in:\n  ${start}\n`);
  if (options.browser) openInBrowser(start.toString());
  const timer = setTimeout(() => fail(new Error("no login within 5 minutes")), LOGIN_TIMEOUT_MS);
  try {
    const code = await received;
    const res = await fetch(new URL("/v1/auth/sso/token", server), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code, code_verifier: verifier, redirect_uri: redirectUri }),
    });
    if (!res.ok) throw new Error(`the server refused the login (${res.status})`);
    return (await res.json()) as TokenPair;
  } finally {
    clearTimeout(timer);
    callback.close();
  }
}

/** Reads a line from the terminal without echoing it (or from stdin when it is not a terminal). */
export async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const onData = (data: Buffer) => {
      for (const ch of data.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          done();
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          done();
          reject(new Error("cancelled"));
          return;
        }
        value = ch === "\u007f" ? value.slice(0, -1) : value + ch;
      }
    };
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}

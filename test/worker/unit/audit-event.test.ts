// The audit chain's hash exactly as API.md defines it:
//   hash = hex(SHA-256(prev_hash_hex ‖ JCS(event))), from a genesis of 64 zeros.
// Checked against the general RFC 8785 canonicalizer and WebCrypto's SHA-256.
import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  GENESIS,
  canonicalEvent,
  chainHash,
  type AuditEvent,
} from "../../../src/worker/audit/event.js";

const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constant('é\u2028"\\/\n'));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const json = fc.jsonValue();

const event: fc.Arbitrary<AuditEvent> = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  ts: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  actor: fc.record({
    kind: fc.constantFrom("user", "token", "oidc", "anonymous", "system" as const),
    id: maybe(text),
  }),
  action: text,
  target: maybe(text),
  result: fc.constantFrom("ok", "denied", "error", "aborted" as const),
  ip: maybe(text),
  user_agent: maybe(text),
  request_id: maybe(text),
  details: maybe(fc.dictionary(text, json)),
});

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("audit event hashing", () => {
  it("writes the same bytes as the general JCS canonicalizer", () => {
    fc.assert(
      fc.property(event, (e) => {
        expect(canonicalEvent(e)).toBe(canonicalize(e));
      }),
      { numRuns: 500 },
    );
  });

  it("hashes prev_hash ‖ JCS(event) with SHA-256, from a genesis of 64 zeros", async () => {
    expect(GENESIS).toBe("0".repeat(64));
    await fc.assert(
      fc.asyncProperty(event, fc.constantFrom(GENESIS, "ab".repeat(32)), async (e, prev) => {
        expect(chainHash(prev, e)).toBe(await sha256Hex(prev + canonicalize(e)));
      }),
      { numRuns: 200 },
    );
  });
});

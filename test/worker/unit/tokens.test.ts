import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { constantTimeEqual, sha256Hex } from "../../../src/worker/crypto/hashing.js";
import { newId, newToken, parseToken } from "../../../src/worker/crypto/ids.js";
import { importPepper } from "../../../src/worker/crypto/instance-keys.js";
import { hashPassword, verifyPassword } from "../../../src/worker/crypto/password.js";

describe("tokens and ids", () => {
  it("formats tokens as qala_<kind>_<id>_<secret> with base32 parts", () => {
    const t = newToken("admin");
    expect(t.token).toMatch(/^qala_admin_[a-z2-7]+_[a-z2-7]{52}$/);
    expect(parseToken(t.token, ["admin"])).toEqual({ kind: "admin", id: t.id, secret: t.secret });
  });

  it("parses nothing that is not a well-formed token", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const parsed = parseToken(s, ["admin", "svc", "rt"]);
        if (parsed) expect(s).toBe(`qala_${parsed.kind}_${parsed.id.slice(4)}_${parsed.secret}`);
      }),
    );
    expect(parseToken("qala_admin_ABC_def", ["admin"])).toBeNull();
    expect(parseToken("qala_root_abc_def", ["admin"])).toBeNull();
    expect(parseToken("qala_svc_abc_def", ["admin"])).toBeNull();
    expect(parseToken("qala_admin_abc_def_ghi", ["admin"])).toBeNull();
  });

  it("makes prefixed ids that no slug can equal", () => {
    expect(newId("prj")).toMatch(/^prj_[a-z2-7]{16}$/);
    expect(newId("prj")).not.toMatch(/^[a-z0-9][a-z0-9-]{0,62}$/);
  });

  it("compares equal and unequal strings of any length", async () => {
    expect(await constantTimeEqual("abc", "abc")).toBe(true);
    expect(await constantTimeEqual("abc", "abd")).toBe(false);
    expect(await constantTimeEqual("abc", "abcd")).toBe(false);
    expect(await constantTimeEqual("", "")).toBe(true);
    expect(sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("hashes any text as WebCrypto's SHA-256 of its UTF-8 bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme" }), async (text) => {
        const digest = new Uint8Array(
          await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
        );
        const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
        expect(sha256Hex(text)).toBe(hex);
      }),
    );
  });
});

describe("passwords", () => {
  const pepperKey = (fill: number) => importPepper(new Uint8Array(32).fill(fill));

  it("hashes with PBKDF2-SHA256 at 100,000 iterations, a per-user salt and the pepper", async () => {
    const pepper = await pepperKey(1);
    const a = await hashPassword("correct horse battery staple", pepper);
    const b = await hashPassword("correct horse battery staple", pepper);
    expect(a).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery staple", a, pepper)).toBe(true);
    expect(await verifyPassword("wrong horse battery staple", a, pepper)).toBe(false);
    expect(await verifyPassword("anything", "garbage", pepper)).toBe(false);
  });

  it("does not verify without the same pepper", async () => {
    const hash = await hashPassword("correct horse battery staple", await pepperKey(1));
    expect(await verifyPassword("correct horse battery staple", hash, await pepperKey(2))).toBe(
      false,
    );
  });

  it("refuses stored iteration counts above the runtime's maximum", async () => {
    const pepper = await pepperKey(1);
    const hash = await hashPassword("pw", pepper);
    expect(await verifyPassword("pw", hash.replace("$100000$", "$100001$"), pepper)).toBe(false);
  });
});

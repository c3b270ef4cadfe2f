import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { constantTimeEqual, sha256Hex } from "../../../src/worker/crypto/hashing.js";
import { newId, newToken, parseToken } from "../../../src/worker/crypto/ids.js";
import { hashPassword, verifyPassword } from "../../../src/worker/crypto/password.js";

describe("tokens and ids", () => {
  it("formats tokens as qala_<kind>_<id>_<secret> with base32 parts", () => {
    const t = newToken("admin");
    expect(t.token).toMatch(/^qala_admin_[a-z2-7]+_[a-z2-7]{52}$/);
    expect(parseToken(t.token)).toEqual({ kind: "admin", id: t.id, secret: t.secret });
  });

  it("parses nothing that is not a well-formed token", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const parsed = parseToken(s);
        if (parsed) expect(s).toBe(`qala_${parsed.kind}_${parsed.id.slice(4)}_${parsed.secret}`);
      }),
    );
    expect(parseToken("qala_admin_ABC_def")).toBeNull();
    expect(parseToken("qala_root_abc_def")).toBeNull();
    expect(parseToken("qala_admin_abc_def_ghi")).toBeNull();
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
    expect(await sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});

describe("passwords", () => {
  it("hashes with PBKDF2-SHA256 at 100,000 iterations and a per-user salt", async () => {
    const a = await hashPassword("correct horse battery staple");
    const b = await hashPassword("correct horse battery staple");
    expect(a).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery staple", a)).toBe(true);
    expect(await verifyPassword("wrong horse battery staple", a)).toBe(false);
    expect(await verifyPassword("anything", "garbage")).toBe(false);
  });
});

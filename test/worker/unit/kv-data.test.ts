// The KV v2 document ↔ Qalá value mapping (src/worker/vault/kv-data.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mergePatch, toDocument, toValue } from "../../../src/worker/vault/kv-data.js";

const isJsonObjectText = (text: string) => {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
};

describe("KV v2 documents", () => {
  it("stores {value} as the value itself and reads any plain value back as {value}", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !isJsonObjectText(s)),
        (value) => {
          expect(toValue({ value })).toBe(value);
          expect(toDocument(value)).toEqual({ value });
        },
      ),
    );
  });

  it("round-trips every other JSON document", () => {
    const documents = fc
      .dictionary(fc.string(), fc.jsonValue())
      .filter((d) => !(Object.keys(d).length === 1 && typeof d.value === "string"))
      // JSON has no -0; JSON.parse(JSON.stringify(x)) is the document as stored.
      .map((d) => JSON.parse(JSON.stringify(d)) as Record<string, unknown>);
    fc.assert(
      fc.property(documents, (document) => {
        expect(toDocument(toValue(document))).toEqual(document);
      }),
    );
  });

  it("documents the one ambiguity: a value that is JSON object text reads as that object", () => {
    expect(toDocument(toValue({ value: '{"a":1}' }))).toEqual({ a: 1 });
  });

  it("applies JSON merge patches (RFC 7396)", () => {
    expect(mergePatch({ a: "b", c: { d: "e", f: "g" } }, { a: "z", c: { f: null } })).toEqual({
      a: "z",
      c: { d: "e" },
    });
    expect(mergePatch({ a: "b" }, { a: { x: null, y: 1 } })).toEqual({ a: { y: 1 } });
    expect(mergePatch({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
  });
});

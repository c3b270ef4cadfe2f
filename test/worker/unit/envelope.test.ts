import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IntegrityError } from "../../../src/worker/crypto/aead.js";
import { fromBase64, toBase64 } from "../../../src/worker/crypto/encoding.js";
import {
  createKek,
  decryptValue,
  encryptValue,
  kekAad,
  unwrapKek,
  type SealedValue,
  type ValueContext,
} from "../../../src/worker/crypto/envelope.js";
import { parseMasterKeyring } from "../../../src/worker/crypto/master-keys.js";
import { MAX_CACHED_BYTES, decodedBytesCached } from "../../../src/worker/crypto/dek-cache.js";

const KEY_A = "a:" + btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
const KEY_B = "b:" + btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));

const context: ValueContext = {
  projectId: "prj_one",
  environmentId: "env_one",
  secretId: "sec_one",
  key: "API_KEY",
  version: 3,
};

async function setup() {
  const ring = await parseMasterKeyring(KEY_A);
  const { wrapped, key } = await createKek(ring, context.environmentId, 1);
  return { ring, wrapped, kek: key };
}

/** Flips one bit of a base64 field, at a byte index chosen by `at` (mod length). */
function flipBit(b64: string, at: number, bit = 0): string {
  const bytes = fromBase64(b64);
  const i = at % bytes.length;
  bytes[i]! ^= 1 << bit;
  return toBase64(bytes);
}

describe("envelope encryption", () => {
  it("round-trips any well-formed UTF-8 value up to 64 KiB", async () => {
    const { kek } = await setup();
    const wellFormed = fc
      .oneof(
        fc.string({ unit: "binary", maxLength: 512 }),
        fc.string({ unit: "grapheme", maxLength: 2048 }),
        fc.string({ unit: "binary-ascii", minLength: 60_000, maxLength: 65_536 }),
      )
      .filter((s) => s.isWellFormed() && new TextEncoder().encode(s).length <= 65_536);
    await fc.assert(
      fc.asyncProperty(wellFormed, async (value) => {
        const sealed = await encryptValue(kek, context, value);
        expect(await decryptValue(kek, context, sealed)).toBe(value);
      }),
      { numRuns: 150 },
    );
  });

  it("round-trips a value of exactly 64 KiB of multi-byte characters", async () => {
    const { kek } = await setup();
    const value = "€".repeat(21_845) + "a"; // 3 × 21,845 + 1 = 65,536 bytes
    expect(new TextEncoder().encode(value).length).toBe(65_536);
    expect(await decryptValue(kek, context, await encryptValue(kek, context, value))).toBe(value);
  });

  it("uses a fresh DEK and IV for every encryption", async () => {
    const { kek } = await setup();
    const a = await encryptValue(kek, context, "same");
    const b = await encryptValue(kek, context, "same");
    expect(a.iv).not.toBe(b.iv);
    expect(a.wrappedDek).not.toBe(b.wrappedDek);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("fails on any flipped bit of the ciphertext, IV or wrapped DEK", async () => {
    const { kek } = await setup();
    const sealed = await encryptValue(kek, context, "a value worth protecting");
    const fields: (keyof SealedValue)[] = ["ciphertext", "iv", "wrappedDek"];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (field, at, bit) => {
          const tampered = { ...sealed, [field]: flipBit(sealed[field], at, bit) };
          await expect(decryptValue(kek, context, tampered)).rejects.toBeInstanceOf(IntegrityError);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("keeps failing on tampered bytes once the value's DEK is cached, and keeps opening the genuine row", async () => {
    const { kek } = await setup();
    const sealed = await encryptValue(kek, context, "cached and checked");
    expect(await decryptValue(kek, context, sealed)).toBe("cached and checked");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<keyof SealedValue>("ciphertext", "iv"),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (field, at, bit) => {
          const tampered = { ...sealed, [field]: flipBit(sealed[field], at, bit) };
          // Interleaved on the same cached DEK: neither read sees the other's bytes.
          const [bad, good] = await Promise.allSettled([
            decryptValue(kek, context, tampered),
            decryptValue(kek, context, sealed),
          ]);
          expect(bad.status === "rejected" && bad.reason).toBeInstanceOf(IntegrityError);
          expect(good).toEqual({ status: "fulfilled", value: "cached and checked" });
          await expect(
            decryptValue(kek, { ...context, version: 4 }, sealed),
          ).rejects.toBeInstanceOf(IntegrityError);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("bounds the decoded bytes it caches, however many large values are read", async () => {
    const { kek } = await setup();
    const big = "v".repeat(60 * 1024);
    for (let i = 0; i < 200; i++) {
      const at = { ...context, secretId: `sec_${i}` };
      const sealed = await encryptValue(kek, at, big);
      expect(await decryptValue(kek, at, sealed)).toBe(big);
    }
    // 200 values of 60 KiB would be 12 MiB; the oldest went.
    expect(decodedBytesCached()).toBeGreaterThan(MAX_CACHED_BYTES / 2);
    expect(decodedBytesCached()).toBeLessThanOrEqual(MAX_CACHED_BYTES);
  });

  it("fails on any flipped bit of the wrapped KEK", async () => {
    const { ring, wrapped } = await setup();
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 0, max: 7 }), async (at, bit) => {
        const tampered = { ...wrapped, wrappedKey: flipBit(wrapped.wrappedKey, at, bit) };
        await expect(unwrapKek(ring, tampered)).rejects.toBeInstanceOf(IntegrityError);
      }),
      { numRuns: 60 },
    );
  });

  it("fails when a ciphertext is moved to another secret, key, version, environment or project", async () => {
    const { kek } = await setup();
    const sealed = await encryptValue(kek, context, "bound to its row");
    const elsewhere: ValueContext[] = [
      { ...context, secretId: "sec_two" },
      { ...context, key: "OTHER_KEY" },
      { ...context, version: 4 },
      { ...context, environmentId: "env_two" },
      { ...context, projectId: "prj_two" },
    ];
    for (const moved of elsewhere) {
      await expect(decryptValue(kek, moved, sealed)).rejects.toBeInstanceOf(IntegrityError);
    }
  });

  it("fails when a wrapped KEK is moved to another environment or version", async () => {
    const { ring, wrapped } = await setup();
    await expect(unwrapKek(ring, { ...wrapped, environmentId: "env_two" })).rejects.toThrow(
      IntegrityError,
    );
    await expect(unwrapKek(ring, { ...wrapped, version: 2 })).rejects.toThrow(IntegrityError);
  });

  it("fails with another environment's KEK even when the AAD is right", async () => {
    const { ring, kek } = await setup();
    const other = await createKek(ring, context.environmentId, 1);
    const sealed = await encryptValue(kek, context, "isolated");
    await expect(decryptValue(other.key, context, sealed)).rejects.toBeInstanceOf(IntegrityError);
  });

  it("refuses IVs that are not 12 bytes and tags shorter than 16 bytes", async () => {
    const { kek } = await setup();
    const sealed = await encryptValue(kek, context, "strict");
    const longIv = toBase64(new Uint8Array([...fromBase64(sealed.iv), 0, 0, 0, 0]));
    await expect(decryptValue(kek, context, { ...sealed, iv: longIv })).rejects.toThrow(
      /IV must be 12 bytes/,
    );
    const ct = fromBase64(sealed.ciphertext);
    const cut = toBase64(ct.slice(0, ct.length - 4));
    await expect(decryptValue(kek, context, { ...sealed, ciphertext: cut })).rejects.toThrow(
      IntegrityError,
    );
    await expect(
      decryptValue(kek, context, { ...sealed, ciphertext: toBase64(ct.slice(0, 10)) }),
    ).rejects.toThrow(/shorter than its tag/);
  });

  it("stores a versioned format tag in front of every ciphertext and wrapped key", async () => {
    const { wrapped, kek } = await setup();
    const sealed = await encryptValue(kek, context, "tagged");
    for (const blob of [sealed.ciphertext, sealed.wrappedDek, wrapped.wrappedKey]) {
      expect(new TextDecoder().decode(fromBase64(blob).slice(0, 2))).toBe("v1");
    }
    const unknown = fromBase64(sealed.ciphertext);
    unknown[1] = "2".charCodeAt(0);
    await expect(
      decryptValue(kek, context, { ...sealed, ciphertext: toBase64(unknown) }),
    ).rejects.toThrow(/unknown ciphertext format/);
  });
});

describe("master key rotation", () => {
  it("decrypts with a retired master key while new KEKs use the active one", async () => {
    const before = await parseMasterKeyring(KEY_A);
    const old = await createKek(before, "env_one", 1);
    const sealed = await encryptValue(old.key, context, "survives rotation");

    const after = await parseMasterKeyring(`${KEY_B},${KEY_A}`);
    expect(after.activeId).toBe("b");
    const unwrapped = await unwrapKek(after, old.wrapped);
    expect(await decryptValue(unwrapped, context, sealed)).toBe("survives rotation");

    const fresh = await createKek(after, "env_one", 2);
    expect(fresh.wrapped.wrappedBy).toBe("b");
    // Key a cannot open what b wrapped, even named as its wrapper.
    const onlyA = await parseMasterKeyring(KEY_A);
    await expect(
      onlyA.unwrap({ ...fresh.wrapped, wrappedBy: "a" }, kekAad("env_one", 2)),
    ).rejects.toBeInstanceOf(IntegrityError);
  });

  it("fails clearly when the master key that wrapped a KEK is no longer configured", async () => {
    const old = await createKek(await parseMasterKeyring(KEY_A), "env_one", 1);
    await expect(unwrapKek(await parseMasterKeyring(KEY_B), old.wrapped)).rejects.toThrow(
      /master key a is not configured/,
    );
  });

  it("refuses malformed QALA_MASTER_KEY values", async () => {
    for (const bad of ["", "nokey", "a:", "a:c2hvcnQ=", `${KEY_A},${KEY_A}`, "bad id:AAAA"]) {
      await expect(parseMasterKeyring(bad)).rejects.toThrow();
    }
  });
});

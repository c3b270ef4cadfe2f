import { describe, expect, it } from "vitest";
import { IntegrityError } from "../../../src/worker/crypto/aead.js";
import {
  openInstanceSecret,
  sealInstanceSecret,
} from "../../../src/worker/crypto/instance-keys.js";
import { parseMasterKeyring } from "../../../src/worker/crypto/master-keys.js";

const key = (id: string, fill: number) =>
  `${id}:${btoa(String.fromCharCode(...new Uint8Array(32).fill(fill)))}`;

describe("server secrets wrapped by the master key", () => {
  it("survive a master-key rotation (the old key stays listed to unwrap)", async () => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const sealed = await sealInstanceSecret(
      await parseMasterKeyring(key("a", 1)),
      "pepper",
      1,
      secret,
    );
    const rotated = await parseMasterKeyring(`${key("b", 2)},${key("a", 1)}`);
    expect(await openInstanceSecret(rotated, sealed)).toEqual(secret);
  });

  it("are bound to their name and version", async () => {
    const ring = await parseMasterKeyring(key("a", 1));
    const sealed = await sealInstanceSecret(ring, "pepper", 1, new Uint8Array(32));
    await expect(openInstanceSecret(ring, { ...sealed, name: "jwt" })).rejects.toBeInstanceOf(
      IntegrityError,
    );
    await expect(openInstanceSecret(ring, { ...sealed, version: 2 })).rejects.toBeInstanceOf(
      IntegrityError,
    );
  });
});

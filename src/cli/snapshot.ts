// The fallback snapshot of `qala run` and `qala export`: every successful fetch
// of an environment is written encrypted (AES-256-GCM) under a random key kept
// in a 0600 file beside the credentials, so it survives token refresh. When
// the server cannot be reached, the snapshot is used, up to a maximum age.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configDir } from "./config.js";

interface Snapshot {
  savedAt: number;
  secrets: Record<string, string>;
}

function key(): Buffer {
  const path = join(configDir(), "snapshot.key");
  if (!existsSync(path)) {
    mkdirSync(configDir(), { recursive: true, mode: 0o700 });
    writeFileSync(path, randomBytes(32), { mode: 0o600 });
  }
  return readFileSync(path);
}

export const snapshotPath = (project: string, env: string) =>
  join(configDir(), "snapshots", `${encodeURIComponent(project)}.${encodeURIComponent(env)}.bin`);

const aad = (project: string, env: string) => Buffer.from(`qala:snapshot:${project}:${env}`);

export function saveSnapshot(
  path: string,
  project: string,
  env: string,
  secrets: Record<string, string>,
) {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key(), iv).setAAD(aad(project, env));
  const body = Buffer.concat([
    cipher.update(JSON.stringify({ savedAt: Date.now(), secrets })),
    cipher.final(),
  ]);
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(path, Buffer.concat([Buffer.from("v1"), iv, cipher.getAuthTag(), body]), {
    mode: 0o600,
  });
}

export function loadSnapshot(path: string, project: string, env: string): Snapshot | null {
  if (!existsSync(path)) return null;
  const blob = readFileSync(path);
  if (blob.subarray(0, 2).toString() !== "v1") return null;
  const decipher = createDecipheriv("aes-256-gcm", key(), blob.subarray(2, 14)).setAAD(
    aad(project, env),
  );
  decipher.setAuthTag(blob.subarray(14, 30));
  const plain = Buffer.concat([decipher.update(blob.subarray(30)), decipher.final()]);
  return JSON.parse(plain.toString("utf8")) as Snapshot;
}

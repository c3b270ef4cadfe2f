// How a Qalá value and a Vault KV v2 document map onto each other (API.md):
// `{"value": "<text>"}` is the value itself; any other document is stored as
// its JSON text, and a value that is the JSON text of an object reads back as
// that object. Pure, so the round trip is property-tested.

export type KvDocument = Record<string, unknown>;

const isObject = (x: unknown): x is KvDocument =>
  typeof x === "object" && x !== null && !Array.isArray(x);

export function toValue(document: KvDocument): string {
  const keys = Object.keys(document);
  if (keys.length === 1 && keys[0] === "value" && typeof document.value === "string") {
    return document.value;
  }
  return JSON.stringify(document);
}

export function toDocument(value: string): KvDocument {
  if (value.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isObject(parsed)) return parsed;
    } catch {
      // not JSON: a plain value
    }
  }
  return { value };
}

/** RFC 7396 JSON merge patch (what `vault kv patch` sends): null removes a field. */
export function mergePatch(target: KvDocument, patch: KvDocument): KvDocument {
  const out: KvDocument = { ...target };
  for (const [key, change] of Object.entries(patch)) {
    if (change === null) delete out[key];
    else if (isObject(change)) {
      const inner = out[key];
      out[key] = mergePatch(isObject(inner) ? inner : {}, change);
    } else out[key] = change;
  }
  return out;
}

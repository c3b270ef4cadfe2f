// Counters for tests: how many D1 statements and coordinator calls a request
// makes. Counting starts only when a test installs a probe object in its own
// isolate (the Worker and its Durable Objects share it under the test runner);
// no code path outside the tests installs one, so production never counts.
export interface Probe {
  d1: number;
  coordinatorCalls: number;
}

const probe = (): Probe | undefined => (globalThis as { __QALA_PROBE__?: Probe }).__QALA_PROBE__;

/** True while a test counts (clients are then not cached, so each one is counted). */
export const probeInstalled = () => probe() !== undefined;

/** Wraps a D1 binding so that each prepared statement and batch is counted. */
export function probedD1(d1: D1Database): D1Database {
  if (!probe()) return d1;
  return new Proxy(d1, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const p = probe();
        if (p && (prop === "prepare" || prop === "exec")) p.d1++;
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

/** Wraps a coordinator stub so that each RPC call is counted. */
export function probedStub<T extends object>(stub: T): T {
  if (!probe()) return stub;
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      // An RPC stub answers every property with a callable, `then` included.
      if (typeof value !== "function" || typeof prop !== "string" || prop === "then") return value;
      return (...args: unknown[]) => {
        const p = probe();
        if (p) p.coordinatorCalls++;
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

// AuthThrottle: one object per client address or per account. Failed logins
// and failed token checks are budgeted (10 a minute); the 10th failure locks
// the key out, for a minute and then twice as long at each new lockout (at
// most an hour), right password or not. A success resets the budget; the
// lockout count decays after a quiet day.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";

export const FAILURES_PER_WINDOW = 10;
const WINDOW_MS = 60_000;
const FIRST_LOCKOUT_MS = 60_000;
const MAX_LOCKOUT_MS = 3600_000;
const QUIET_RESET_MS = 24 * 3600_000;

interface State {
  windowStart: number;
  failures: number;
  lockedUntil: number;
  lockouts: number;
  lastFailure: number;
}

const FRESH: State = { windowStart: 0, failures: 0, lockedUntil: 0, lockouts: 0, lastFailure: 0 };

export class AuthThrottle extends DurableObject<Env> {
  #state: State | undefined;
  #clockOffsetMs = 0;

  #now() {
    return Date.now() + this.#clockOffsetMs;
  }

  async #load(): Promise<State> {
    this.#state ??= (await this.ctx.storage.get<State>("state")) ?? { ...FRESH };
    return this.#state;
  }

  async #save(state: State) {
    this.#state = state;
    await this.ctx.storage.put("state", state);
  }

  /** Seconds until the key may try again, or 0. Checked before any password is hashed. */
  async check(): Promise<number> {
    const state = await this.#load();
    const now = this.#now();
    return state.lockedUntil > now ? Math.ceil((state.lockedUntil - now) / 1000) : 0;
  }

  /** Records a failure; returns the seconds of lockout it started (0 if none). */
  async fail(): Promise<number> {
    const now = this.#now();
    const state = { ...(await this.#load()) };
    if (now - state.lastFailure > QUIET_RESET_MS) state.lockouts = 0;
    if (now - state.windowStart > WINDOW_MS) {
      state.windowStart = now;
      state.failures = 0;
    }
    state.failures++;
    state.lastFailure = now;
    let lockout = 0;
    if (state.failures >= FAILURES_PER_WINDOW) {
      lockout = Math.min(MAX_LOCKOUT_MS, FIRST_LOCKOUT_MS * 2 ** state.lockouts);
      state.lockouts++;
      state.lockedUntil = now + lockout;
      state.failures = 0;
      state.windowStart = now;
    }
    await this.#save(state);
    return Math.ceil(lockout / 1000);
  }

  /** A success clears the failures (not an ongoing lockout). */
  async succeed(): Promise<void> {
    const state = await this.#load();
    if (state.failures > 0) await this.#save({ ...state, failures: 0 });
  }

  setTestHooks(hooks: { clockOffsetMs?: number }): void {
    if (this.env.QALA_TEST_HOOKS !== "1") throw new Error("test hooks are not enabled");
    this.#clockOffsetMs = hooks.clockOffsetMs ?? this.#clockOffsetMs;
  }
}

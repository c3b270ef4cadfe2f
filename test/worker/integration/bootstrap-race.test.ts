// Runs in a file of its own: its instance starts with no admin.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BOOTSTRAP_TOKEN, ORIGIN } from "../helpers.js";

describe("bootstrap race", () => {
  it("gives exactly one of 8 concurrent bootstraps a 201; the rest get 409", async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        SELF.fetch(`${ORIGIN}/v1/bootstrap`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            bootstrap_token: BOOTSTRAP_TOKEN,
            email: `racer${i}@example.com`,
            password: "a long enough password",
          }),
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const users = await env.DB.prepare("SELECT COUNT(*) AS n FROM users").first<{ n: number }>();
    expect(users?.n).toBe(1);
  });
});

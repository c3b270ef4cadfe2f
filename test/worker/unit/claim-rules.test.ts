import { describe, expect, it } from "vitest";
import {
  claimsMatch,
  constrainsSubject,
  globToRegExp,
  isBroadSubject,
} from "../../../src/worker/auth/claim-rules.js";

describe("claim globs", () => {
  it("lets * match anything but ':' and ** match anything", () => {
    const rule = "repo:acme/app:ref:refs/heads/*";
    expect(globToRegExp(rule).test("repo:acme/app:ref:refs/heads/main")).toBe(true);
    expect(globToRegExp(rule).test("repo:acme/app:ref:refs/heads/feature/x")).toBe(true);
    expect(globToRegExp(rule).test("repo:acme/app:environment:production")).toBe(false);
    expect(globToRegExp("repo:acme/*").test("repo:acme/app:ref:refs/heads/main")).toBe(false);
    expect(globToRegExp("repo:acme/**").test("repo:acme/app:ref:refs/heads/main")).toBe(true);
    expect(globToRegExp("repo:acme/app").test("repo:acme/app2")).toBe(false);
    expect(globToRegExp("a.b").test("axb")).toBe(false);
  });

  it("requires every rule to match, any element of an array claim", () => {
    const claims = { sub: "repo:acme/app:environment:prod", aud: ["x", "y"], run: 42 };
    expect(claimsMatch({ sub: "repo:acme/app:environment:*", aud: "y", run: "42" }, claims)).toBe(
      true,
    );
    expect(claimsMatch({ sub: "repo:acme/app:*" }, claims)).toBe(false);
    expect(claimsMatch({ sub: "repo:acme/app:*", missing: "*" }, claims)).toBe(false);
  });

  it("calls organisation-wide and empty subjects broad", () => {
    for (const broad of [
      "*",
      "**",
      "repo:acme/*",
      "repo:acme/**",
      "repo:acme/*:*",
      "repo:*/app:*",
    ]) {
      expect(isBroadSubject(broad)).toBe(true);
    }
    for (const narrow of ["repo:acme/app:*", "repo:acme/app:ref:refs/heads/main"]) {
      expect(isBroadSubject(narrow)).toBe(false);
    }
    expect(constrainsSubject({ sub: "repo:acme/*" })).toBe(false);
    expect(constrainsSubject({ sub: "repo:acme/*", repository: "acme/app" })).toBe(true);
    expect(constrainsSubject({ repository_owner: "acme" })).toBe(false);
  });
});

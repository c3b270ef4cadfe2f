// Checks made before a grant, token or trust policy is written: the role
// exists, the environments exist, the expiry is in the future, and the caller
// holds everything they are handing out.
import { isBuiltInRole } from "../../contract/index.js";
import { constrainsSubject, hasWildcard } from "../auth/claim-rules.js";
import { isCidr } from "../auth/client-address.js";
import { mayGrant, type ProjectAccess } from "../auth/permissions.js";
import type { GrantSpec } from "../auth/principal.js";
import type { Db } from "../db/client.js";
import { listEnvironments } from "../db/projects.js";
import { AppError } from "../errors.js";
import { customRoles } from "./access.js";

const invalid = (path: string[], message: string) =>
  new AppError("validation_failed", message, { details: [{ path, message }] });

/** Validates `spec` for the project and checks the granter may hand it out. */
export async function checkGrantable(
  db: Db,
  projectId: string,
  granter: ProjectAccess,
  spec: GrantSpec,
  now: number = Date.now(),
): Promise<void> {
  const roles = await customRoles(db, projectId);
  if (spec.role !== null && !isBuiltInRole(spec.role) && !roles.has(spec.role)) {
    throw invalid(["role"], `no role named ${spec.role} in this project`);
  }
  const environments = (await listEnvironments(db, projectId)).map((e) => e.slug);
  const unknown = (spec.environments ?? []).filter((e) => !environments.includes(e));
  if (unknown.length)
    throw invalid(["environments"], `unknown environments: ${unknown.join(", ")}`);
  if (spec.expiresAt !== null && Date.parse(spec.expiresAt) <= now) {
    throw invalid(["expires_at"], "must be in the future");
  }
  // Custom roles of the project count for both sides of the comparison.
  const withRoles = { ...granter, roles: granter.everything ? granter.roles : roles };
  if (!mayGrant(withRoles, spec, environments)) {
    throw new AppError("forbidden", "you cannot grant more than you hold");
  }
}

/** `expires_at` or `ttl_seconds` as an RFC 3339 time, or null. */
export function expiryOf(input: { expires_at?: string; ttl_seconds?: number }, now = Date.now()) {
  if (input.expires_at) return new Date(Date.parse(input.expires_at)).toISOString();
  if (input.ttl_seconds) return new Date(now + input.ttl_seconds * 1000).toISOString();
  return null;
}

export function checkCidrs(list: readonly string[] | undefined): void {
  const bad = (list ?? []).filter((c) => !isCidr(c));
  if (bad.length) throw invalid(["ip_allowlist"], `not CIDRs: ${bad.join(", ")}`);
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Trust policies: https issuers (http only on loopback), exact audiences, a pinned subject. */
export function checkTrustPolicy(input: {
  issuer: string;
  audience: string;
  claims: Record<string, string>;
  allow_wildcard_subject: boolean;
}): void {
  const issuer = new URL(input.issuer);
  if (issuer.protocol !== "https:" && !LOOPBACK_HOSTS.has(issuer.hostname)) {
    throw invalid(["issuer"], "issuers must use https");
  }
  if (hasWildcard(input.audience)) throw invalid(["audience"], "the audience must be exact");
  if (!input.allow_wildcard_subject && !constrainsSubject(input.claims)) {
    throw invalid(
      ["claims", "sub"],
      "the policy admits a whole organisation; pin sub (or repository) or set allow_wildcard_subject",
    );
  }
}

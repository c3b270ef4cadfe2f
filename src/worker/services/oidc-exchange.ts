// POST /v1/auth/oidc: a workload's OIDC ID token (GitHub Actions or any issuer)
// is exchanged, under one of the project's trust policies, for a short-lived
// access token limited to the policy's role and environments.
import { decodeJwt } from "jose";
import { claimsMatch } from "../auth/claim-rules.js";
import { certificateMatches, type ClientCertificate } from "../auth/client-certificate.js";
import { parseJson } from "../auth/api-token.js";
import { signAccessToken, type JwtDeps } from "../auth/jwt.js";
import { verifyIdToken } from "../auth/oidc-issuer.js";
import { projectTrusts } from "../db/access.js";
import { findProject } from "../db/projects.js";
import { AppError } from "../errors.js";

const refused = () => new AppError("unauthorized", "no trust policy admits this token");

export async function exchangeOidcToken(
  deps: JwtDeps,
  input: { project: string; token: string; trust?: string },
  cf: unknown,
) {
  const project = await findProject(deps.db, input.project);
  if (!project) throw refused();
  let issuer: string | undefined;
  try {
    issuer = decodeJwt(input.token).iss;
  } catch {
    throw refused();
  }
  // Only this project's policies, and only those of the token's issuer, are considered.
  const candidates = (await projectTrusts(deps.db, project.id)).filter(
    (t) => t.issuer === issuer?.replace(/\/+$/, "") && (!input.trust || t.id === input.trust),
  );
  if (!issuer || candidates.length === 0) throw refused();
  const claims = await verifyIdToken(candidates[0]!.issuer, input.token);
  if (!claims) throw refused();
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const matching = candidates.filter(
    (t) => audiences.includes(t.audience) && claimsMatch(JSON.parse(t.claims), claims),
  );
  if (matching.length > 1) {
    throw new AppError("conflict", "several trust policies match; name one with `trust`", {
      details: { trusts: matching.map((t) => t.id) },
    });
  }
  const trust = matching[0];
  if (!trust) throw refused();
  if (!certificateMatches(parseJson<ClientCertificate[]>(trust.clientCertificates), cf)) {
    throw refused();
  }
  const access = await signAccessToken(
    deps,
    { sub: claims.sub!, kind: "oidc", trust: trust.id, project: project.id },
    trust.ttlSeconds,
  );
  return {
    answer: { access_token: access, token_type: "Bearer" as const, expires_in: trust.ttlSeconds },
    projectId: project.id,
    trustId: trust.id,
    subject: claims.sub!,
  };
}

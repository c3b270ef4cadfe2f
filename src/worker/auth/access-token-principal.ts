// Turns verified access-token claims into a principal, checking what may have
// changed since the token was issued: a disabled user, a deleted trust policy,
// a trust bound to a client certificate.
import type { Db } from "../db/client.js";
import { findTrust } from "../db/access.js";
import { findUser } from "../db/identity.js";
import { grantOf, parseJson } from "./api-token.js";
import { certificateMatches, type ClientCertificate } from "./client-certificate.js";
import type { AccessClaims } from "./jwt.js";
import type { Principal } from "./principal.js";

export async function principalFromClaims(
  db: Db,
  claims: AccessClaims,
  cf: unknown,
): Promise<Principal | null> {
  if (claims.kind === "user") {
    const user = await findUser(db, claims.sub);
    if (!user || user.disabledAt) return null;
    return {
      kind: "user",
      id: user.id,
      name: user.email,
      instanceAdmin: user.instanceRole === "admin",
    };
  }
  if (!claims.trust || !claims.project) return null;
  const trust = await findTrust(db, claims.trust);
  if (!trust || trust.projectId !== claims.project) return null;
  if (!certificateMatches(parseJson<ClientCertificate[]>(trust.clientCertificates), cf))
    return null;
  return {
    kind: "oidc",
    id: trust.id,
    name: claims.sub,
    projectId: trust.projectId,
    grant: grantOf(trust),
  };
}

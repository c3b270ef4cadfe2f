// Strong ETags for environment-wide answers (list, export) and If-None-Match matching.
export const environmentEtag = (environmentId: string, revision: number, variant: string) =>
  `"${environmentId}.${revision}.${variant}"`;

/** RFC 9110 weak comparison, as If-None-Match uses; `*` matches anything. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, "");
  const want = strip(etag);
  return header.split(",").some((candidate) => {
    const c = candidate.trim();
    return c === "*" || strip(c) === want;
  });
}

// Claim rules of OIDC trust policies: glob patterns where `*` matches any run of
// characters except `:` and `**` matches any run, anchored at both ends.
export function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        source += ".*";
        i++;
      } else {
        source += "[^:]*";
      }
    } else {
      source += ch.replace(/[.+?^${}()|[\]\\/-]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`, "s");
}

const claimText = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.flatMap(claimText)
    : typeof value === "string" || typeof value === "number" || typeof value === "boolean"
      ? [String(value)]
      : [];

/** True when every rule matches its claim (an array claim matches if any element does). */
export function claimsMatch(rules: Record<string, string>, claims: Record<string, unknown>) {
  return Object.entries(rules).every(([name, pattern]) => {
    const re = globToRegExp(pattern);
    return claimText(claims[name]).some((v) => re.test(v));
  });
}

const ONLY_WILDCARDS = /^[*:/]*$/;

/** A `sub` rule that admits a whole organisation (or everyone). */
export function isBroadSubject(sub: string): boolean {
  if (ONLY_WILDCARDS.test(sub)) return true;
  const repo = /^repo:([^/]*)\/(.*)$/s.exec(sub);
  if (repo) return repo[1]!.includes("*") || ONLY_WILDCARDS.test(repo[2]!);
  const segments = sub.split(":");
  return (
    segments.some((s) => s.includes("*")) && segments.filter((s) => !s.includes("*")).length <= 1
  );
}

/**
 * Does a policy pin the workload down beyond an organisation? Either a `sub`
 * rule that is not broad, or an exact `repository` or `job_workflow_ref` rule.
 */
export function constrainsSubject(rules: Record<string, string>): boolean {
  if (rules.sub !== undefined && !isBroadSubject(rules.sub)) return true;
  return ["repository", "job_workflow_ref"].some(
    (name) => rules[name] !== undefined && !rules[name]!.includes("*"),
  );
}

export const hasWildcard = (value: string) => value.includes("*");

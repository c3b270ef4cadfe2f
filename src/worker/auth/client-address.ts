// The client address and IP allowlists. The address is the one the runtime
// reports in CF-Connecting-IP (Cloudflare sets it and overwrites any value a
// client sent); X-Forwarded-For and similar headers are never consulted.
import ipaddr from "ipaddr.js";

export function clientAddress(headers: Headers): string | null {
  const value = headers.get("CF-Connecting-IP")?.trim();
  return value && ipaddr.isValid(value) ? value : null;
}

/** True when `cidr` is an IPv4 or IPv6 address or CIDR range. */
export function isCidr(cidr: string): boolean {
  try {
    ipaddr.parseCIDR(cidr.includes("/") ? cidr : hostRange(cidr));
    return true;
  } catch {
    return false;
  }
}

const hostRange = (address: string) => `${address}/${address.includes(":") ? 128 : 32}`;

/** An empty or absent allowlist allows everyone; an unknown address matches no list. */
export function allowedBy(allowlist: readonly string[] | null, address: string | null): boolean {
  if (!allowlist || allowlist.length === 0) return true;
  if (!address) return false;
  let parsed = ipaddr.parse(address);
  // An IPv4-mapped IPv6 address (::ffff:1.2.3.4) is matched as the IPv4 address.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return allowlist.some((entry) => {
    const [range, bits] = ipaddr.parseCIDR(entry.includes("/") ? entry : hostRange(entry));
    return range.kind() === parsed.kind() && parsed.match(range, bits);
  });
}

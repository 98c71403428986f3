import ipaddr from 'ipaddr.js';

/** Where `http_request` may go: host patterns, plus non-public ranges explicitly let through. */
export interface HttpAddressPolicy {
  /** `*` = any host; `*.example.com` = any subdomain of example.com; otherwise exact host names. */
  readonly allowedHosts: readonly string[];
  /** CIDRs (e.g. `127.0.0.1/32`) that may be reached although they are not public unicast. */
  readonly allowedPrivateCidrs: readonly string[];
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Cloud metadata endpoints, refused by name even if a future ipaddr.js reclassified their ranges. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);

/** The parsed policy; `checkAddress` and `checkHost` are the two gates every hop passes. */
export class AddressGate {
  private readonly cidrs: Cidr[];

  constructor(private readonly policy: HttpAddressPolicy) {
    this.cidrs = policy.allowedPrivateCidrs.map((c) => {
      try {
        return ipaddr.parseCIDR(c.trim());
      } catch {
        throw new Error(`NEXUS_HTTP_ALLOWED_PRIVATE_CIDRS: ${c} is not a CIDR`);
      }
    });
  }

  /** Whether the URL host name (lower case, IPv6 without brackets) matches the allowlist. */
  isHostAllowed(hostname: string): boolean {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    return this.policy.allowedHosts.some((raw) => {
      const pattern = raw.trim().toLowerCase();
      if (pattern === '*') return true;
      if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
      return host === pattern;
    });
  }

  /**
   * Why a resolved address must not be connected to, or undefined when it may. Only public unicast
   * passes by default: loopback, private, link-local, CGNAT, unique-local, unspecified, multicast,
   * reserved, NAT64/6to4/Teredo (which can embed private IPv4) and metadata are all refused. An
   * IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
   */
  refusalOf(address: string): string | undefined {
    if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
    const ip = ipaddr.process(address);
    const canonical = ip.toString();
    if (this.cidrs.some(([net, bits]) => net.kind() === ip.kind() && ip.match([net, bits] as never))) {
      return undefined;
    }
    if (METADATA_ADDRESSES.has(canonical)) return `${canonical} is a cloud metadata address`;
    const range = ip.range();
    return range === 'unicast' ? undefined : `${canonical} is a ${range} address`;
  }
}

/** Parses the two environment variables of API.md (unset hosts = `*`, unset CIDRs = none). */
export function httpPolicyFromEnv(env: Record<string, string | undefined>): HttpAddressPolicy {
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  const hosts = list(env['NEXUS_HTTP_ALLOWED_HOSTS']);
  return {
    allowedHosts: hosts.length === 0 ? ['*'] : hosts,
    allowedPrivateCidrs: list(env['NEXUS_HTTP_ALLOWED_PRIVATE_CIDRS']),
  };
}

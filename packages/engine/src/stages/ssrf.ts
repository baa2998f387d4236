/**
 * The SSRF guard: a proxied request whose host resolves to a loopback, private, link-local or
 * cloud-metadata address is refused unless the agent's egress allow list names that host exactly
 * (a wildcard does not count). The proxy resolves the name once and connects to what was checked,
 * so a name that later resolves elsewhere (DNS rebinding) changes nothing.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local or metadata'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'special-purpose'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];
const lists = RANGES.map(([net, prefix, family, kind]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, kind };
});

/** What kind of non-public address this is, or undefined for a public one (and for a non-address). */
export function addressClass(address: string): string | undefined {
  let ip = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // IPv4 inside IPv6 (mapped ::ffff:a.b.c.d, or NAT64 64:ff9b::a.b.c.d) is judged as the IPv4 it carries.
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (embedded) ip = embedded[1]!;
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return undefined;
  return lists.find((l) => l.family === family && l.list.check(ip, family))?.kind;
}

/** The refusal, if `host` resolved to a non-public address the policy does not name. */
export function checkAddresses(host: string, addresses: readonly string[], allow: readonly string[]): string | undefined {
  if (allow.includes(host)) return undefined;
  for (const a of addresses) {
    const kind = addressClass(a);
    if (kind) return `host '${host}' resolves to a ${kind} address (${a}); name it in egress allow to reach it`;
  }
  return undefined;
}

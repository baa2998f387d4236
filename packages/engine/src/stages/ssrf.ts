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
  // The documentation nets are not globally reachable, so where one is in use it is a local network.
  ['192.0.2.0', 24, 'ipv4', 'documentation (reserved)'],
  ['198.51.100.0', 24, 'ipv4', 'documentation (reserved)'],
  ['203.0.113.0', 24, 'ipv4', 'documentation (reserved)'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['2001:db8::', 32, 'ipv6', 'documentation (reserved)'],
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
  ip = ip.replace(/%.*$/, ''); // a zone id names an interface, not another address
  if (isIPv4(ip)) return lists.find((l) => l.family === 'ipv4' && l.list.check(ip, 'ipv4'))?.kind;
  if (!isIPv6(ip)) return undefined;
  // An IPv4 address inside IPv6 is judged as that IPv4 address, however the IPv6 is written.
  const carried = embeddedIPv4(ipv6Words(ip));
  if (carried === 'special-purpose') return carried;
  if (carried) return addressClass(carried);
  return lists.find((l) => l.family === 'ipv6' && l.list.check(ip, 'ipv6'))?.kind;
}

/** The eight 16-bit words of a valid IPv6 address (a trailing dotted quad included). */
function ipv6Words(ip: string): number[] {
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  let text = ip;
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${ip.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const words = (part: string | undefined) => (part ? part.split(':').map((w) => parseInt(w, 16)) : []);
  const front = words(head);
  const back = words(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * The IPv4 address an IPv6 one carries: mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96),
 * IPv4-compatible (::/96, past :: and ::1), 6to4 (2002::/16). The local-use NAT64 prefix
 * (64:ff9b:1::/48) places it by a length only its network knows: that is special-purpose.
 */
function embeddedIPv4(w: number[]): string | undefined {
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && w[5] === 0xffff) return v4(w[6]!, w[7]!);
  if (w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6)) return v4(w[6]!, w[7]!);
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 1) return 'special-purpose';
  if (zeros(0, 6) && (w[6] !== 0 || w[7]! > 1)) return v4(w[6]!, w[7]!);
  if (w[0] === 0x2002) return v4(w[1]!, w[2]!);
  return undefined;
}

/** The refusal, if `host` resolved to a non-public address the policy does not name. */
export function checkAddresses(
  host: string,
  addresses: readonly string[],
  allow: readonly string[],
  /** Those of `addresses` the proxy found on this machine's own interfaces (public ones included). */
  own: readonly string[] = [],
): string | undefined {
  if (allow.includes(host)) return undefined;
  for (const a of addresses) {
    const kind = addressClass(a) ?? (own.includes(a) ? 'local-interface' : undefined);
    if (kind) return `host '${host}' resolves to a ${kind} address (${a}); name it in egress allow to reach it`;
  }
  return undefined;
}

import { isIPv6 } from 'node:net';

/**
 * Egress host entries: `api.stripe.com` (that host) or `*.example.com` (its subdomains only).
 * Normalised as the engine normalises request hosts: lowercase, IDNA to ASCII, no trailing dot.
 */
export function normaliseEgressHost(entry: string): string | { problem: string; hint?: string } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry))
    return {
      problem: 'is a URL, not a host name',
      hint: `write just the host, e.g. "${entry.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/:]/)[0]}"`,
    };
  const wildcard = entry.startsWith('*.');
  const host = wildcard ? entry.slice(2) : entry;
  if (host === '' || /[\s/@*#?]/.test(host)) return { problem: "is not a host name or '*.domain' pattern" };
  // An IPv6 address written without its brackets (`::1`) is that address: read as `host:port`, its
  // last group would be taken for a port, and the entry for another host.
  if (!wildcard && isIPv6(host)) {
    // A zone (`fe80::1%eth0`) names an interface: the URL parser refuses it, and no destination carries one.
    if (host.includes('%')) return { problem: 'has an IPv6 zone id (%…), which no destination carries' };
    return unmapped(new URL(`http://[${host}]`).hostname);
  }
  // Egress is decided on host names: a port here would be silently dropped, widening the entry.
  if (/:\d*$/.test(host) && !/^\[.*\]$/.test(host))
    return { problem: 'has a port; egress entries are host names', hint: `write "${entry.replace(/:\d*$/, '')}"` };
  let ascii: string;
  try {
    const bare = host.startsWith('[') ? host : host.replace(/\.$/, '');
    ascii = new URL(`http://${bare}`).hostname;
  } catch {
    return { problem: 'is not a valid host name' };
  }
  // An empty label (`.internal.corp`, `evil.com..`) matches no destination, since a request's host
  // with one names no host: a deny entry so written would deny nothing, and say nothing.
  if (ascii.startsWith('.') || ascii.endsWith('.') || ascii.includes('..'))
    return {
      problem: 'has an empty label, so no destination could match it',
      ...(/^\.[^.]/.test(entry) ? { hint: `write "*${entry}" for its subdomains, and "${entry.slice(1)}" for the domain itself` } : {}),
    };
  return wildcard ? `*.${ascii}` : unmapped(ascii);
}

/**
 * An IPv4-mapped IPv6 literal as its IPv4 address: a socket to `[::ffff:1.2.3.4]` reaches 1.2.3.4
 * itself, so egress entries and the hosts of requests are both read so (the URL parser writes it
 * `[::ffff:102:304]`, which a deny of `1.2.3.4` would never meet).
 */
export function unmapped(host: string): string {
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (!m) return host;
  const [hi, lo] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)];
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

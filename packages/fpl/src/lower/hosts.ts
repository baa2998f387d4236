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
  if (!wildcard && isIPv6(host)) return new URL(`http://[${host}]`).hostname;
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
  return wildcard ? `*.${ascii}` : ascii;
}

/**
 * This machine's own addresses, as its interfaces have them: a public one reaches the host itself
 * (every service listening on 0.0.0.0) as surely as 127.0.0.1 does, so the SSRF guard refuses them
 * too. Read again every few seconds, since interfaces come and go (DHCP, VPNs, containers).
 */
import { BlockList, isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { daemonNow } from '../core/clock.js';

const REFRESH_MS = 5000;
let list: BlockList | undefined;
let readAt = 0;

function current(): BlockList {
  const now = daemonNow();
  if (list && now - readAt < REFRESH_MS) return list;
  const next = new BlockList();
  for (const entries of Object.values(networkInterfaces()))
    for (const e of entries ?? []) next.addAddress(e.address.replace(/%.*$/, ''), e.family === 'IPv4' ? 'ipv4' : 'ipv6');
  readAt = now;
  return (list = next);
}

/** Those of `addresses` that are this machine's own. */
export function ownAddresses(addresses: readonly string[]): string[] {
  if (addresses.length === 0) return [];
  const mine = current();
  return addresses.filter((a) => {
    const ip = a.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    try {
      return mine.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
    } catch {
      return false;
    }
  });
}

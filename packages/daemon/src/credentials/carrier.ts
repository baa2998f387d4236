/**
 * Where a permitted call's credential would travel when a proxy attaches it (not handed back in the
 * reply). `none`: the surface has nowhere to put one, or must never hand it out; the call is denied
 * whatever the binding says. `clear`: plain HTTP leaving this machine, readable on every hop; only a
 * `credential { cleartext = true }` may go that way.
 */
import { isIP } from 'node:net';

export type Carrier = { none: string } | { clear: string };

/** An IP literal on the loopback network; a name never is (it resolves elsewhere tomorrow). */
function loopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  const v4 = a.toLowerCase().startsWith('::ffff:') ? a.slice(7) : a;
  return (isIP(v4) === 4 && v4.startsWith('127.')) || a === '::1';
}

/**
 * The carrier of a request sent with `protocol` to these addresses (or the host, as an IP literal or
 * `localhost`), if it is plain HTTP leaving this machine.
 */
export function cleartextTo(protocol: string, host: string, addresses?: readonly string[]): Carrier | undefined {
  if (protocol !== 'http:') return undefined;
  const local = addresses?.length ? addresses.every(loopback) : host === 'localhost' || loopback(host);
  return local ? undefined : { clear: `http://${host} would carry the credential unencrypted` };
}

/** Which CONNECT tunnels the forward proxy inspects: `https_inspection`, narrowed by `https_inspection_hosts`. */
import { isIPv6 } from 'node:net';
import type { PolicyIR } from '@faramesh/fpl/runtime';
import { hostMatches, normaliseHost } from '@faramesh/engine';
import { StackCa } from './stack-ca.js';

export async function httpsInspection(
  ir: PolicyIR,
  keysDir: string,
  publishDir: string,
): Promise<{ ca: StackCa; host(host: string): boolean } | undefined> {
  if (ir.runtime.https_inspection !== true) return undefined;
  const patterns = Array.isArray(ir.runtime.https_inspection_hosts)
    ? ir.runtime.https_inspection_hosts.map((h) => {
        // Written as egress entries are (`Bücher.example.`), compared as the CONNECT host is: canonical.
        const text = String(h);
        const wild = text.startsWith('*.');
        const name = canonicalHost(wild ? text.slice(2) : text) ?? text.toLowerCase();
        return wild ? `*.${name}` : name;
      })
    : [];
  const ca = await StackCa.load(keysDir, publishDir);
  return { ca, host: (host) => patterns.length === 0 || patterns.some((p) => hostMatches(p, host.toLowerCase())) };
}

/**
 * A host as the URL parser, and so the policy, reads it (the engine's `normaliseHost`: lower case,
 * IDNA, no trailing dot, IPv4 in dotted quad, so `2130706433`, `127.1` and `0x7f.1` are all
 * 127.0.0.1), without IPv6 brackets. Undefined for what is not a bare host. The CONNECT target is
 * decided, resolved and matched against the inspected hosts in this one form: another spelling of an
 * inspected host must not pass uninspected.
 */
export function canonicalHost(raw: string): string | undefined {
  const name = raw.replace(/^\[|\]$/g, '');
  // Userinfo, a port, a path: not a bare host (the URL parser would quietly drop them).
  if (/[@/\\?#%\s]/.test(name) || (name.includes(':') && !isIPv6(name))) return undefined;
  return normaliseHost(name).replace(/^\[|\]$/g, '') || undefined;
}

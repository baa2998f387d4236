/** Which CONNECT tunnels the forward proxy inspects: `https_inspection`, narrowed by `https_inspection_hosts`. */
import type { PolicyIR } from '@faramesh/fpl/runtime';
import { StackCa } from './stack-ca.js';

export async function httpsInspection(
  ir: PolicyIR,
  keysDir: string,
  publishDir: string,
): Promise<{ ca: StackCa; host(host: string): boolean } | undefined> {
  if (ir.runtime.https_inspection !== true) return undefined;
  const patterns = Array.isArray(ir.runtime.https_inspection_hosts)
    ? ir.runtime.https_inspection_hosts.map((h) => String(h).toLowerCase())
    : [];
  const ca = await StackCa.load(keysDir, publishDir);
  return { ca, host: (host) => patterns.length === 0 || patterns.some((p) => hostMatches(p, host.toLowerCase())) };
}

/** `api.example.com` names itself; `*.example.com` names its subdomains (not example.com itself). */
export function hostMatches(pattern: string, host: string): boolean {
  return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern;
}

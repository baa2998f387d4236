import { isIPv6 } from 'node:net';
import type { DecisionRequest } from '@faramesh/protocol';
import { unmapped } from '@faramesh/fpl/runtime';

/** Where a call is going: the HTTP host, else `args.url`, `args.host`, `args.endpoint` or `args.base_url`. */
export function destinationOf(request: DecisionRequest): string | undefined {
  return destinationsOf(request)[0];
}

const DESTINATION_ARGS = ['url', 'host', 'endpoint', 'base_url'] as const;

/**
 * Every place a call may go: the HTTP host alone, else each destination argument the call carries.
 * The daemon cannot know which of them the tool reads (`{url, base_url}` is an ordinary client's
 * shape), so each must pass egress: checking only the first would let a model put an allowed host in
 * `url` and the real target in `base_url`.
 */
export function destinationsOf(request: DecisionRequest): string[] {
  if (request.http?.host !== undefined) return [normaliseHost(request.http.host)];
  const args = request.args;
  if (!args) return [];
  const hosts: string[] = [];
  for (const k of DESTINATION_ARGS) {
    if (!Object.hasOwn(args, k)) continue;
    const v = args[k];
    if (v === null || v === undefined || v === '') continue;
    // A destination given as something other than a string (`["https://evil.com"]`, an object with
    // an href) is still a destination: a tool that stringifies it goes there. It names no host, so
    // no allow list passes it.
    const host = typeof v === 'string' ? normaliseHost(v) : '';
    if (!hosts.includes(host)) hosts.push(host);
  }
  return hosts;
}

/** The schemes whose hosts the URL parser reads as a resolver does (IPv4 shorthand, IDNA). */
const SPECIAL_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:', 'file:']);

/**
 * Lowercase, IDNA to ASCII, no trailing dot, no port, no userinfo; IPv6 literals keep their
 * brackets (and get them when given bare). Returns '' for something that is not a host at all (which no allow list matches).
 */
export function normaliseHost(raw: string): string {
  // As the URL parser (and so fetch) reads it: tabs and newlines anywhere are dropped, so
  // `ht\ttps:/x` is `https:/x`; they must be gone before the checks below look at the scheme.
  let text = raw.replace(/[\t\n\r]/g, '').trim();
  // A bare IPv6 address (a CONNECT line's host, once its brackets are off) is that address, not ''.
  if (isIPv6(text)) text = `[${text}]`;
  // fetch goes to evil.com for `https:/evil.com` and `https:evil.com` (curl for the first), Python
  // finds no host in either: clients disagree. Prefixed with `http://`, the host would read as
  // `https`, which no deny list names.
  if (/^(?:https?|wss?|ftp):/i.test(text) && !/^[a-z]+:\/\//i.test(text)) return '';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  // A `\` before the path ends the host for the URL parser (`https://api.example.com\@evil.test/`
  // is api.example.com) but not for curl, which reads `api.example.com\` as a user and goes to
  // evil.test: a destination that clients read differently names no host.
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*\\/i.test(text)) return '';
  try {
    const url = new URL(text);
    let full = url.hostname;
    // Outside the special schemes the URL parser keeps a host as written (`redis://127.1`,
    // `postgres://0x7f000001`, `ssh://ＥＶＩＬ.com`), while the client's resolver reads it as
    // 127.0.0.1 or evil.com: read as an http host, it is compared as the resolver will take it.
    if (!SPECIAL_SCHEMES.has(url.protocol) && full !== '' && !full.startsWith('[')) full = new URL(`http://${full}`).hostname;
    full = full.toLowerCase();
    const host = full.endsWith('.') ? full.slice(0, -1) : full;
    // An empty label (`evil.com..`, `.evil.com`) is no DNS name: what a resolver makes of it is its own guess.
    if (host.startsWith('.') || host.endsWith('.') || host.includes('..')) return '';
    return unmapped(host);
  } catch {
    return '';
  }
}

/** `*.x.com` matches subdomains of x.com (not x.com itself); anything else matches exactly. */
export function hostMatches(entry: string, host: string): boolean {
  if (entry.startsWith('*.')) return host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
  return entry === host;
}

/** Deny first, then a non-empty allow list is an allowlist. Returns the reason when refused. */
export function checkEgress(egress: { allow: readonly string[]; deny: readonly string[] }, host: string): string | undefined {
  if (host === '') return 'the destination is not a valid host';
  const denied = egress.deny.find((e) => hostMatches(e, host));
  if (denied) return `host '${host}' matches egress deny '${denied}'`;
  if (egress.allow.length > 0 && !egress.allow.some((e) => hostMatches(e, host))) return `host '${host}' not in egress allow list`;
  return undefined;
}

/**
 * Which route a reverse-proxied request is, and the arguments it carries. Path parameters, query
 * parameters, declared headers and the fields of a JSON or form body become one flat argument object,
 * typed as the OpenAPI document declares (a route map's values stay strings). A name given twice with
 * different values (the path and the body, say) is refused: the policy and the upstream must not read
 * different things.
 */
import type { HttpParamIR, HttpRouteIR } from '@faramesh/fpl';
import { SECRET } from './http-common.js';
import { foldKey } from '@faramesh/protocol';

export class RouteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Compiled {
  route: HttpRouteIR;
  /** Each segment: a literal, or the parameter it binds. */
  segments: ({ literal: string } | { param: string })[];
  /** Literal segments count: the more, the more specific. */
  literals: number;
}

export interface Match {
  route: HttpRouteIR;
  /** Path parameters, decoded (not yet typed). */
  path: Record<string, string>;
}

export class RouteTable {
  private readonly byLength = new Map<number, Compiled[]>();

  constructor(readonly routes: readonly HttpRouteIR[]) {
    for (const route of routes) {
      const segments = split(route.path).map((s) => {
        const m = /^\{(.+)\}$/.exec(s);
        return m ? { param: m[1]! } : { literal: s };
      });
      const c = { route, segments, literals: segments.filter((s) => 'literal' in s).length };
      const list = this.byLength.get(segments.length) ?? [];
      list.push(c);
      // Concrete paths before templated ones (OpenAPI's rule); then a named method before `*`.
      list.sort((a, b) => b.literals - a.literals || Number(a.route.method === '*') - Number(b.route.method === '*'));
      this.byLength.set(segments.length, list);
    }
  }

  /**
   * The route for a request (the path as normalised by `cleanPath`), if any. A path that matches a
   * route only when letter case is ignored is refused: some upstreams route case-insensitively, and
   * would run that operation while the policy decided `http/<method>`.
   */
  match(method: string, path: string): Match | undefined {
    const exact = this.find(method, path, false);
    const folded = this.find(method, path, true);
    // Refused too when a template took it that a route with more literals would, letter case aside:
    // `/items/NEW` is `/items/{id}` here, and `/items/new` to an upstream that ignores case.
    if (folded && (!exact || (folded.route !== exact.route && literals(folded.route.path) > literals(exact.route.path))))
      throw new RouteError(400, `the path ${path} differs from the route ${folded.route.path} only in letter case`);
    return exact;
  }

  private find(method: string, path: string, fold: boolean): Match | undefined {
    const parts = split(path);
    const same = fold ? (a: string, b: string) => a.toLowerCase() === b.toLowerCase() : (a: string, b: string) => a === b;
    let found: { c: Compiled; match: Match } | undefined;
    for (const c of this.byLength.get(parts.length) ?? []) {
      if (c.route.method !== method && c.route.method !== '*') continue;
      // Sorted by rank: past the first match, only one with as many literals can contest it.
      if (found && c.literals !== found.c.literals) break;
      const bound: [string, string][] = [];
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const s = c.segments[i]!;
        if ('literal' in s) ok = same(s.literal, parts[i]!);
        else bound.push([s.param, decode(parts[i]!)]);
      }
      if (!ok) continue;
      // `/a/{x}` and `/{y}/b` both take `/a/b`: upstream routers settle that their own way (the
      // order routes were registered, the leftmost literal), so the policy cannot know which runs.
      // The same template for any method (`*`) beside one for this method is no contest: the named one is meant.
      if (found && found.c.route.tool !== c.route.tool && template(found.c.route.path) !== template(c.route.path))
        throw new RouteError(
          400,
          `the path ${path} matches both ${found.c.route.path} (${found.c.route.tool}) and ${c.route.path} (${c.route.tool}): the upstream could run either`,
        );
      // Defined, not assigned: a path template may name a parameter `__proto__`.
      found ??= { c, match: { route: c.route, path: Object.fromEntries(bound) } };
    }
    return found?.match;
  }
}

/** How many segments of a path template are literal. */
const literals = (path: string): number => split(path).filter((p) => !p.startsWith('{')).length;

/** A path template with its parameters unnamed: `/a/{id}` and `/a/{x}` take the same requests. */
const template = (path: string): string => path.replace(/\{[^}]*\}/g, '{}');

/**
 * A route that names no tool of its own: an OpenAPI operation without an operationId. It still
 * claims its path, so that a template beside it (`/items/{id}` beside `/items/new`) does not take
 * its requests under another operation's tool; its requests are decided as unmatched ones are.
 */
export const unnamed = (r: HttpRouteIR): boolean => r.tool === `http/${r.method.toLowerCase()}`;

const split = (path: string) => path.split('/').filter((s) => s !== '');

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RouteError(400, `the path segment '${segment}' is not valid percent-encoding`);
  }
}

/**
 * The request path as matched and as sent on: dot segments resolved (by the URL parser), repeated
 * slashes folded, percent-encoded letters, digits and `-._~` decoded (`%72efund` is `refund`, as
 * most upstreams read it), other escapes upper-cased. Refused, because upstreams disagree on what
 * they mean: an encoded slash or backslash, and `;` (path parameters, which some strip).
 */
export function cleanPath(rawUrl: string): { path: string; search: string } {
  // Origin form (`/a?b`) is read as a path even when it starts `//`; absolute form gives its path.
  let url: URL;
  try {
    url = new URL(rawUrl.startsWith('/') ? `http://upstream${rawUrl}` : rawUrl);
  } catch {
    throw new RouteError(400, `'${rawUrl}' is not a request target`);
  }
  if (/%2f|%5c/i.test(url.pathname)) throw new RouteError(400, 'an encoded / or \\ in the path is refused');
  if (url.pathname.includes(';')) throw new RouteError(400, 'a ; in the path is refused (path parameters)');
  const path = url.pathname.replace(/\/{2,}/g, '/').replace(/%[0-9a-f]{2}/gi, (esc) => {
    const c = String.fromCharCode(parseInt(esc.slice(1), 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : esc.toUpperCase();
  });
  // Decoding can make a dot segment (`%2e` alone was already one to the URL parser): resolve again.
  return { path: new URL(`http://upstream${path}`).pathname, search: url.search };
}

type Arg = string | number | boolean | string[] | (string | number | boolean)[];

/** The flat arguments of a matched request; `body` is the parsed body's fields (and whether it was a form), if it was read. */
export function routeArgs(
  m: Match | undefined,
  query: URLSearchParams,
  headers: Record<string, string | string[] | undefined>,
  body: { fields: Record<string, unknown>; form: boolean } | undefined,
): Record<string, unknown> {
  const params = m?.route.params ?? [];
  // A declared name, or one that differs from it only in letter case or Unicode form: lenient
  // upstreams (Go's JSON, ASP.NET) bind `Amount` to `amount`, so it is typed as `amount` is or refused.
  const declared = (name: string, where: HttpParamIR['in']) => {
    const p = params.find((q) => q.in === where && (q.name === name || foldKey(q.name) === foldKey(name)));
    if (p && p.name !== name)
      throw new RouteError(400, `'${name}' differs from the declared '${p.name}' only in letter case or Unicode form`);
    return p;
  };
  const args: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const from: Record<string, string> = Object.create(null) as Record<string, string>;
  // Names as lenient frameworks compare them (ASP.NET binds query keys case-insensitively, Go's JSON
  // matches fields so): two that differ only so could be read as either by the upstream.
  const folded = new Map<string, string>();
  const put = (name: string, value: unknown, where: string) => {
    const fold = foldKey(name);
    const other = folded.get(fold);
    if (other !== undefined && other !== name)
      throw new RouteError(400, `'${other}' (${from[other]}) and '${name}' (${where}) differ only in letter case or Unicode form`);
    folded.set(fold, name);
    if (name in args && JSON.stringify(args[name]) !== JSON.stringify(value))
      throw new RouteError(400, `'${name}' is given twice, in the ${from[name]} and in the ${where}, with different values`);
    args[name] = value;
    from[name] = where;
  };
  for (const [name, value] of Object.entries(m?.path ?? {})) put(name, typed(value, declared(name, 'path')), 'path');
  // `amount[]=5000` is `amount` to PHP, Rails and Express's qs, and PHP reads `max.amount` and
  // `max amount` as `max_amount`; the policy would read them as written.
  const plain = (name: string, where: 'query' | 'body') => {
    if (declared(name, where)) return;
    if (/[[\]]/.test(name)) throw new RouteError(400, `'${name}': a name with brackets is read as a list or an object by many frameworks`);
    if (/[. ]/.test(name)) throw new RouteError(400, `'${name}': PHP reads a name's dots and spaces as underscores`);
  };
  for (const name of new Set(query.keys())) {
    plain(name, 'query');
    const all = query.getAll(name);
    const p = declared(name, 'query');
    // Given twice, a scalar is ambiguous: upstreams take the first, the last, or both.
    if (all.length > 1 && p?.type !== 'array') throw new RouteError(400, `the query gives '${name}' more than once`);
    put(name, p?.type === 'array' ? all.map((v) => scalar(v, p.items ?? 'string', name)) : typed(all[0]!, p), 'query');
  }
  for (const p of params) {
    // A header that carries a credential is never an argument (apply leaves them out; this is the backstop).
    if (p.in !== 'header' || SECRET.test(p.name) || p.name === 'x-faramesh-token') continue;
    // Node's headers object inherits from Object.prototype: `constructor` is not a header the client sent.
    const v = Object.hasOwn(headers, p.name) ? headers[p.name] : undefined;
    if (v !== undefined) put(p.name, typed(Array.isArray(v) ? v.join(', ') : v, p), 'headers');
  }
  for (const [name, value] of Object.entries(body?.fields ?? {})) {
    const p = declared(name, 'body');
    if (body!.form) {
      plain(name, 'body');
      // A declared array is the name's values, one per repetition (a comma is part of a form value).
      if (p?.type === 'array')
        put(
          name,
          [value].flat().map((v) => scalar(String(v), p.items ?? 'string', name)),
          'body',
        );
      else put(name, typeof value === 'string' ? typed(value, p) : value, 'body');
    } else put(name, p ? conforming(value, p) : value, 'body');
  }
  return { ...args };
}

/** A JSON field as its schema types it: anything else (the string "5000" for an integer) an upstream may read otherwise. */
function conforming(value: unknown, p: HttpParamIR): unknown {
  const fits = (v: unknown, type: HttpParamIR['type']): boolean => {
    if (v === null) return true;
    switch (type) {
      case 'string':
        return typeof v === 'string';
      case 'boolean':
        return typeof v === 'boolean';
      case 'number':
        return typeof v === 'number';
      case 'integer':
        return typeof v === 'number' && Number.isInteger(v);
      case 'array':
        return Array.isArray(v) && v.every((x) => fits(x, p.items ?? 'string'));
    }
  };
  if (!fits(value, p.type))
    throw new RouteError(
      400,
      `'${p.name}' must be ${p.type === 'array' ? `an array of ${p.items ?? 'string'}` : p.type} (the operation's body schema), not ${JSON.stringify(value).slice(0, 40)}`,
    );
  return value;
}

function typed(value: string, p: HttpParamIR | undefined): Arg {
  if (!p || p.type === 'string') return value;
  if (p.type === 'array') return value.split(',').map((v) => scalar(v, p.items ?? 'string', p.name));
  return scalar(value, p.type, p.name);
}

function scalar(value: string, type: NonNullable<HttpParamIR['items']>, name: string): string | number | boolean {
  switch (type) {
    case 'string':
      return value;
    case 'boolean':
      if (value === 'true' || value === 'false') return value === 'true';
      throw new RouteError(400, `'${name}' must be true or false, not '${value}'`);
    case 'integer':
    case 'number': {
      const n = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(value) ? Number(value) : NaN;
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n)))
        throw new RouteError(400, `'${name}' must be ${type === 'integer' ? 'an integer' : 'a number'}, not '${value}'`);
      return n;
    }
  }
}

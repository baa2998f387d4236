/**
 * The reverse proxy's routes, built once by apply and signed with the policy: `runtime { http_routes }`
 * (a route map in governance.fms) and the operations of the `http_openapi` document (OpenAPI 3, YAML or
 * JSON). The daemon never reads the document itself: changing it is a new policy version, by apply.
 */
import { readFileSync } from 'node:fs';
import type { HttpParamIR, HttpRouteIR, PolicyIR } from '@faramesh/fpl';
import { resolveStackPath } from './paths.js';
import { SettingsError } from './settings.js';
import { DAEMON_PATHS, isDaemonPath } from '../wire/http-api.js';
import { RouteTable, unnamed } from '../http-proxy/routes.js';
import { SECRET } from '../http-proxy/http-common.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const SCALARS = ['string', 'number', 'integer', 'boolean'] as const;
type Scalar = (typeof SCALARS)[number];

export interface BuiltRoutes {
  routes: HttpRouteIR[];
  /** Operations left out (no operationId), said at apply. */
  warnings: string[];
}

/** Routes for a policy, or none when it has no reverse proxy. Throws SettingsError on anything unusable. */
export async function buildHttpRoutes(ir: PolicyIR, stackDir: string): Promise<BuiltRoutes> {
  const rt = ir.runtime;
  const map = rt.http_routes;
  const openapi = rt.http_openapi;
  if (map === undefined && openapi === undefined) return { routes: [], warnings: [] };
  if (rt.http_upstream === undefined)
    throw new SettingsError('runtime.http_routes and http_openapi route to runtime.http_upstream: set it');
  const routes: HttpRouteIR[] = [];
  for (const [key, tool] of Object.entries((map ?? {}) as Record<string, unknown>)) {
    const [method, path] = key.split(' ') as [string, string];
    routes.push({ method, path, tool: String(tool), params: [], ref: `runtime.http_routes "${key}"` });
  }
  const warnings: string[] = [];
  if (typeof openapi === 'string') {
    const file = resolveStackPath(openapi, stackDir);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new SettingsError(`runtime.http_openapi: cannot read ${file}: ${(e as Error).message}`);
    }
    const built = await openApiRoutes(text, openapi);
    warnings.push(...built.warnings);
    for (const r of built.routes) {
      // The route map names the tool the document does not, for this method or for any (`*`).
      if (unnamed(r) && routes.some((o) => (o.method === r.method || o.method === '*') && samePath(o.path, r.path))) continue;
      const same = routes.find((o) => o.method === r.method && samePath(o.path, r.path));
      if (same) throw new SettingsError(`${r.method} ${r.path} is routed twice: by ${same.ref} and by ${r.ref}`);
      routes.push(r);
    }
  }
  // An operation without operationId is the upstream's as any unmatched request: no daemon path to check.
  for (const r of routes.filter((x) => !unnamed(x))) {
    if (!r.path.includes('{') && isDaemonPath(r.path))
      throw new SettingsError(`${r.ref}: ${r.path} is the daemon's own path on http_listen; the upstream cannot be served there`);
    const shadowed = [...DAEMON_PATHS, '/v1/approvals/x'].filter((d) => new RouteTable([{ ...r, method: '*' }]).match('GET', d));
    if (shadowed.length > 0)
      warnings.push(`${r.ref}: requests to ${shadowed.join(', ')} are the daemon's own, never ${r.method} ${r.path} on the upstream`);
  }
  return { routes, warnings };
}

/** Two templates match the same requests: equal, with any parameter names. */
function samePath(a: string, b: string): boolean {
  const norm = (p: string) => p.replace(/\{[^}]*\}/g, '{}');
  return norm(a) === norm(b);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The operations of an OpenAPI 3 document as routes; `name` is how errors name the file. */
export async function openApiRoutes(text: string, name: string): Promise<BuiltRoutes> {
  // Only apply and check read OpenAPI documents: the daemon never loads the YAML parser.
  const { parseYaml } = await import('./yaml.js');
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    throw new SettingsError(`${name} is not YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isObj(doc)) throw new SettingsError(`${name} is not an OpenAPI document (no top-level object)`);
  if (typeof doc.openapi !== 'string' || !doc.openapi.startsWith('3.'))
    throw new SettingsError(
      doc.swagger !== undefined
        ? `${name} is Swagger ${String(doc.swagger)}: convert it to OpenAPI 3 (e.g. with swagger2openapi)`
        : `${name} has no 'openapi: 3.x' version`,
    );
  if (!isObj(doc.paths)) throw new SettingsError(`${name} has no paths`);
  const deref = (v: unknown, where: string): unknown => resolveRef(doc as Obj, v, `${name}: ${where}`);
  const routes: HttpRouteIR[] = [];
  const warnings: string[] = [];
  for (const [path, rawItem] of Object.entries(doc.paths)) {
    if (!/^\/(?:[^/{}]+|\{[^/{}]+\})?(?:\/(?:[^/{}]+|\{[^/{}]+\}))*\/?$/.test(path))
      throw new SettingsError(`${name}: '${path}' is not a path template (segments literal or one {param})`);
    const item = deref(rawItem, path);
    if (!isObj(item)) throw new SettingsError(`${name}: ${path} is not a path item`);
    const shared = parameters(item.parameters, deref, path);
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!isObj(op)) throw new SettingsError(`${name}: ${where} is not an operation`);
      if (typeof op.operationId !== 'string' || !/^\S+$/.test(op.operationId)) {
        warnings.push(`${name}: ${where} has no operationId: its requests are decided as http/${method}`);
        // Kept as a route all the same: left out, its requests would match a template beside it
        // (`/items/{id}` for `/items/new`) and be decided as that operation, which the upstream does not run.
        routes.push({ method: method.toUpperCase(), path, tool: `http/${method}`, params: [], ref: `${name} ${where}` });
        continue;
      }
      const own = parameters(op.parameters, deref, where);
      // An operation's parameter overrides the path item's of the same name and place.
      const merged = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own];
      // A header that carries a credential is never an argument: arguments reach sinks and approvers.
      const params = merged.filter((p) => {
        const secret = p.in === 'header' && (SECRET.test(p.name) || p.name === 'x-faramesh-token');
        if (secret) warnings.push(`${name}: ${where} header parameter ${p.name} carries a credential: it is not an argument`);
        return !secret;
      });
      const body = requestBody(op.requestBody, deref, where);
      routes.push({
        method: method.toUpperCase(),
        path,
        tool: op.operationId,
        params: [...params, ...body.fields],
        body: body.types,
        ref: `${name} ${op.operationId}`,
      });
    }
  }
  return { routes, warnings };
}

/** Follow a local `$ref` (`#/components/...`), a few levels deep; anything else is refused. */
function resolveRef(doc: Obj, v: unknown, where: string, depth = 0): unknown {
  if (!isObj(v) || typeof v.$ref !== 'string') return v;
  if (depth > 8) throw new SettingsError(`${where}: $ref chain too deep`);
  const ref = v.$ref;
  if (!ref.startsWith('#/')) throw new SettingsError(`${where}: only local $refs (#/...) are followed, not '${ref}'`);
  let at: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
    at = isObj(at) && Object.hasOwn(at, key) ? at[key] : undefined;
  }
  if (at === undefined) throw new SettingsError(`${where}: $ref '${ref}' points nowhere`);
  return resolveRef(doc, at, where, depth + 1);
}

function parameters(list: unknown, deref: (v: unknown, where: string) => unknown, where: string): HttpParamIR[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new SettingsError(`${where}: parameters is not a list`);
  const out: HttpParamIR[] = [];
  for (const raw of list) {
    const p = deref(raw, where);
    if (!isObj(p) || typeof p.name !== 'string' || typeof p.in !== 'string')
      throw new SettingsError(`${where}: a parameter without name and in`);
    if (p.in === 'cookie') continue; // cookies are credentials more often than arguments: not read
    if (p.in !== 'path' && p.in !== 'query' && p.in !== 'header') throw new SettingsError(`${where}: parameter ${p.name} is in '${p.in}'`);
    const schema = deref(p.schema, `${where} ${p.name}`);
    const type = typeOf(schema);
    const items = type === 'array' && isObj(schema) ? typeOf(deref(schema.items, `${where} ${p.name}`)) : undefined;
    out.push({
      name: p.in === 'header' ? p.name.toLowerCase() : p.name,
      in: p.in,
      type,
      ...(type === 'array' ? { items: items === 'array' ? 'string' : (items as Scalar) } : {}),
    });
  }
  return out;
}

/**
 * The type a schema states, nullable or not: `T`, 3.1's `[T, "null"]`, or `anyOf`/`oneOf` of one
 * type and null (FastAPI writes `Optional[int]` so). Undefined for anything else.
 */
function statedType(schema: unknown): unknown {
  if (!isObj(schema)) return undefined;
  if (schema.type !== undefined) return Array.isArray(schema.type) ? schema.type.find((x) => x !== 'null') : schema.type;
  const options = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  const real = options?.filter((o) => !(isObj(o) && o.type === 'null'));
  return real?.length === 1 ? statedType(real[0]) : undefined;
}

/** A schema's type, as statedType reads it; objects and anything unknown stay strings. */
function typeOf(schema: unknown): HttpParamIR['type'] {
  const t = statedType(schema);
  return t === 'array' || (SCALARS as readonly unknown[]).includes(t) ? (t as HttpParamIR['type']) : 'string';
}

/**
 * The media types an operation's body may have (none when it declares no body), and the types of
 * the top-level fields its JSON and form schemas declare: a form's fields are text until typed, and
 * a JSON string where a number is declared may be read as that number upstream.
 */
function requestBody(
  raw: unknown,
  deref: (v: unknown, where: string) => unknown,
  where: string,
): { types: string[]; fields: HttpParamIR[] } {
  const body = deref(raw, where);
  if (body === undefined) return { types: [], fields: [] };
  if (!isObj(body) || !isObj(body.content)) throw new SettingsError(`${where}: requestBody has no content`);
  const fields: HttpParamIR[] = [];
  for (const [type, media] of Object.entries(body.content)) {
    const t = type.split(';')[0]!.trim().toLowerCase();
    if (!isJsonType(t) && t !== 'application/x-www-form-urlencoded') continue;
    const schema = isObj(media) ? deref(media.schema, `${where} ${t}`) : undefined;
    const properties = isObj(schema) && isObj(schema.properties) ? schema.properties : {};
    for (const [name, raw] of Object.entries(properties)) {
      if (fields.some((f) => f.name === name)) continue;
      const p = deref(raw, `${where} ${name}`);
      // Only what the schema types plainly (objects and untyped fields pass as they are).
      const stated = statedType(p);
      if (stated !== 'array' && !(SCALARS as readonly unknown[]).includes(stated)) continue;
      const kind = typeOf(p);
      const items = kind === 'array' && isObj(p) ? typeOf(deref(p.items, `${where} ${name}`)) : undefined;
      fields.push({
        name,
        in: 'body',
        type: kind,
        ...(kind === 'array' ? { items: items === 'array' ? 'string' : (items as Scalar) } : {}),
      });
    }
  }
  return { types: Object.keys(body.content).map((t) => t.split(';')[0]!.trim().toLowerCase()), fields };
}

/** `application/json`, `application/problem+json`, with or without parameters. */
export function isJsonType(type: string): boolean {
  return /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type);
}

/**
 * The reverse proxy (`runtime { http_listen, http_upstream }`): the daemon's HTTP channel serves the
 * upstream's API, and each request is a decision before the upstream sees it.
 * - The tool is the matched route's (an OpenAPI `operationId`, or the route map's); a request no route
 *   matches is `http/<method>` with its method, path and query, so `default deny` covers it.
 * - Arguments: path and query parameters, declared headers, and the fields of a JSON or form body
 *   (read whole, at most 1 MiB, before deciding); the body is sent on byte for byte as it was read.
 * - Whose call it is: an agent token (`X-Faramesh-Token`, or `Authorization: Bearer`, which is then
 *   not passed on), else `runtime { http_agent }`; else 401. No Faramesh token ever goes upstream.
 * - Whatever could make the upstream run something other than what was decided is refused: method
 *   overrides (`X-HTTP-Method-Override`, `_method`), URL rewrites (`X-Original-URL`), a body of an
 *   undeclared type or with no type on a matched route.
 * - PERMIT sends it on with the brokered credential injected; DENY and DEFER are 403 with the
 *   structured denial (and the approval id). The upstream is the operator's, so the SSRF guard and
 *   egress lists, which are about where an agent reaches, do not apply to it.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import type { PolicyIR } from '@faramesh/fpl';
import type { Principal } from '../core/tokens.js';
import { resolvedField, SettingsError } from '../stack/settings.js';
import { isJsonType } from '../stack/http-routes.js';
import type { GovernParams, GovernResult } from '../wire/agent-protocol.js';
import { canonicalJson, type HttpFields } from '@faramesh/protocol';
import { MAX_REQUEST_BYTES, REQUEST_TIMEOUT_MS } from '../wire/line-server.js';
import { overShare, type Admit } from '../wire/http-cap.js';
import { BodyError, formFields, parseStrictJson, readBody } from './body.js';
import { denialBody, errorBody, frameBody, HOP, IDLE_MS, notReady, reply, requestIdOf, SECRET, sendableStatus } from './http-common.js';
import { cleanPath, RouteError, routeArgs, RouteTable, unnamed, type Match } from './routes.js';
import { cleartextTo, type Carrier } from '../credentials/carrier.js';

/** What the policy in force says about the reverse proxy. */
export interface ReverseConfig {
  table: RouteTable;
  upstream: URL;
  /** The agent of requests without an agent token. */
  agent?: string;
  /** The routes, upstream and agent as one string: equal keys serve a request alike. */
  key?: string;
}

export interface ReverseDeps {
  /** `carrier`: set when the upstream is plain HTTP off this machine (a bound credential may not go there). */
  decide(params: GovernParams, tool: string, http: HttpFields, carrier?: Carrier): Promise<GovernResult> | GovernResult;
  principal(token: string): Principal | undefined;
  ready(): boolean;
  /** The policy in force's reverse proxy, if it has one. */
  config(): ReverseConfig | undefined;
}

const TOKEN_HEADER = 'x-faramesh-token';
/** How a Faramesh token looks (`faramesh token issue`): never passed on, valid or not. */
const FARAMESH_TOKEN = /^Bearer\s+fmt_/i;

/**
 * Whether an Authorization header carries a Faramesh token: as Bearer, or inside Basic (a URL such
 * as `http://agent:fmt_…@host`, the form the forward proxy takes), where it is the user or password.
 */
function carriesOurToken(auth: string | undefined): boolean {
  if (auth === undefined) return false;
  // Anywhere in the header, in any scheme or none (`Authorization: fmt_…`, `Token fmt_…`).
  if (FARAMESH_TOKEN.test(auth) || OUR_TOKEN.test(auth)) return true;
  const basic = /^Basic\s+(\S+)\s*$/i.exec(auth)?.[1];
  return basic !== undefined && OUR_TOKEN.test(Buffer.from(basic, 'base64').toString('utf8'));
}
/** A Faramesh token at the start of a word. */
const OUR_TOKEN = /(?:^|[^A-Za-z0-9_-])fmt_/;
/**
 * Headers that tell an upstream who the client is and how it was reached. Only the daemon states
 * them (`x-forwarded-for`, `-proto`, `-host`): one the client sent (`Forwarded: for=10.0.0.1`,
 * `X-Real-IP`) would reach the upstream as if this hop vouched for it, and upstreams trust their
 * proxy's word for the caller's address, host and scheme.
 */
const FORWARDING = /^(?:forwarded|x-forwarded-.+|x-real-ip|x-client-ip|true-client-ip|cf-connecting-ip|x-original-forwarded-for)$/;
/** Headers some frameworks read as another method or URL than the request line's. */
const REROUTING = ['x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-url', 'x-rewrite-url'];

/** A policy's reverse proxy, or none; `env("…")` in http_upstream resolved now. Throws SettingsError. */
export function reverseConfig(ir: PolicyIR, env: NodeJS.ProcessEnv): ReverseConfig | undefined {
  const raw = resolvedField(ir.runtime.http_upstream, 'runtime.http_upstream', env);
  if (raw === undefined) return undefined;
  let upstream: URL;
  try {
    upstream = new URL(String(raw));
  } catch {
    throw new SettingsError(`runtime.http_upstream '${String(raw)}' is not a URL`);
  }
  if (
    (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') ||
    upstream.search ||
    upstream.hash ||
    upstream.username ||
    upstream.password
  )
    throw new SettingsError(`runtime.http_upstream must be an http(s) URL without query, fragment or credentials, not '${String(raw)}'`);
  const agent = ir.runtime.http_agent;
  if (typeof agent === 'string' && !ir.agents.some((a) => a.id === agent))
    throw new SettingsError(`runtime.http_agent names '${agent}', which is not an agent of this policy`);
  return {
    table: new RouteTable(ir.http_routes ?? []),
    upstream,
    ...(typeof agent === 'string' ? { agent } : {}),
    key: canonicalJson({ routes: ir.http_routes ?? [], upstream: upstream.href, agent: agent ?? null }),
  };
}

export class ReverseProxy {
  private readonly pool = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  private readonly tlsPool = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

  constructor(private readonly deps: ReverseDeps) {}

  close(): void {
    this.pool.destroy();
    this.tlsPool.destroy();
  }

  /** Serve a request; false (nothing written) when the policy in force has no upstream. */
  async handle(req: IncomingMessage, res: ServerResponse, admit: Admit = () => true): Promise<boolean> {
    const config = this.deps.config();
    if (!config) return false;
    try {
      await this.serve(req, res, config, admit);
    } catch (e) {
      // A body that stalled may never come: the connection ends with the reply. One too large is read
      // on and dropped (as Node does after an early reply), so its client, still sending, hears why.
      if (e instanceof BodyError) reply(res, e.status, errorBody(e.status, e.message), e.status === 408 ? { connection: 'close' } : {});
      else if (e instanceof RouteError) reply(res, e.status, errorBody(e.status, e.message));
      else reply(res, 502, errorBody(502, (e as Error).message));
    }
    return true;
  }

  private async serve(req: IncomingMessage, res: ServerResponse, config: ReverseConfig, admit: Admit): Promise<void> {
    if (!this.deps.ready()) return notReady(res);
    const who = this.who(req, config);
    if ('status' in who)
      return reply(res, who.status, errorBody(who.status, who.error), who.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
    // Each token's agent keeps only its share of the listener busy; requests without a token are
    // all `http_agent`'s, the one caller such a stack has.
    if (who.byToken && !admit(req, who.agent)) return reply(res, 429, errorBody(429, overShare(who.agent)), { 'retry-after': '5' });
    const method = (req.method ?? 'GET').toUpperCase();
    const rerouting = REROUTING.find((h) => req.headers[h] !== undefined);
    if (rerouting) throw new RouteError(400, `${rerouting} is refused: the upstream could run another method or path than the one decided`);
    const { path, search } = cleanPath(req.url ?? '/');
    // Rack 2, Go before 1.17 and Python before 3.9.2 split a query on `;` as well as `&`: `?note=x;amount=5000`
    // would be `amount` 5000 there, while the policy read `note` alone.
    if (search.includes(';'))
      throw new RouteError(400, 'a ; in the query is refused (some frameworks read it as a separator): send it as %3B');
    const query = new URLSearchParams(search);
    if (query.has('_method')) throw new RouteError(400, METHOD_OVERRIDE);
    const found = config.table.match(method, path);
    const match = found && !unnamed(found.route) ? found : undefined;
    const body = await this.readIfGoverned(req, match);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && !SECRET.test(k) && typeof v === 'string') headers[k] = v;
    const tool = match?.route.tool ?? `http/${method.toLowerCase()}`;
    const queryFields = formFields(search);
    const args = match ? routeArgs(match, query, req.headers, body) : { method, path, query: queryFields };
    // A policy swapped in while the body was read routes this request otherwise (another tool, other
    // arguments, another agent or upstream): deciding what the old routes made of it under the new
    // rules would be neither policy's decision. The client sends it again, to the new routes.
    // (Nothing awaits from here to the decision's choice of policy.)
    const now = this.deps.config();
    if (now === undefined || (now !== config && now.key !== config.key)) return policyChanged(res);
    const result = await this.deps.decide(
      { agent_id: who.agent, tool_id: tool, args, ...requestIdOf(req.headers) },
      tool,
      { method, path, query: queryFields, headers },
      cleartextTo(config.upstream.protocol, config.upstream.hostname),
    );
    const ids: Record<string, string> = result.action_id ? { 'x-faramesh-action-id': result.action_id } : {};
    if (result.effect !== 'PERMIT')
      return reply(res, 403, denialBody(result), {
        ...ids,
        ...(result.defer_token ? { 'x-faramesh-approval-id': result.defer_token } : {}),
      });

    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (!HOP.has(k) && k !== TOKEN_HEADER && !FORWARDING.test(k) && v !== undefined) out[k] = v;
    if (who.tokenInAuthorization || carriesOurToken(req.headers.authorization)) delete out.authorization;
    const up = config.upstream;
    out.host = up.host;
    out['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    out['x-forwarded-proto'] = 'encrypted' in req.socket ? 'https' : 'http';
    if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
    if (body) out['content-length'] = String(body.bytes.length);
    else frameBody(req, out);
    // A brokered credential goes in here, at the boundary: the caller never sees it.
    if (result.credential) out[result.credential.header.toLowerCase()] = result.credential.value;
    const options = {
      host: up.hostname.replace(/^\[|\]$/g, ''),
      port: up.port || (up.protocol === 'https:' ? 443 : 80),
      method,
      path: `${up.pathname.replace(/\/$/, '')}${path}${search}`,
      headers: out,
    };
    const upstream =
      up.protocol === 'https:' ? httpsRequest({ ...options, agent: this.tlsPool }) : httpRequest({ ...options, agent: this.pool });
    upstream.setTimeout(IDLE_MS, () => upstream.destroy(new Error(`idle for ${IDLE_MS / 1000} s`)));
    // A client that leaves takes the upstream request with it: its socket goes back, or away.
    res.once('close', () => res.writableFinished || upstream.destroy());
    upstream.on('response', (r) => {
      if (!sendableStatus(r.statusCode)) {
        r.destroy();
        return reply(res, 502, errorBody(502, `upstream ${up.host} answered with status ${r.statusCode}`), ids);
      }
      const back: Record<string, string | string[]> = { ...ids };
      for (const [k, v] of Object.entries(r.headers)) if (!HOP.has(k) && v !== undefined) back[k] = v;
      res.writeHead(r.statusCode, back);
      pipeline(r, res, () => {});
    });
    upstream.on('error', (e) =>
      res.headersSent ? res.destroy() : reply(res, 502, errorBody(502, `upstream ${up.host}: ${e.message}`), ids),
    );
    // Node's client closes a request with neither 'response' nor 'error' when the upstream switches
    // protocols (101) unasked: without this the caller would wait for an answer for ever.
    upstream.once(
      'close',
      () => res.headersSent || reply(res, 502, errorBody(502, `upstream ${up.host} closed the connection without an answer`), ids),
    );
    if (body) upstream.end(body.bytes);
    else pipeline(req, upstream, () => {});
  }

  /** Whose call this is; a Faramesh token in Authorization is ours and is not passed on. */
  private who(
    req: IncomingMessage,
    config: ReverseConfig,
  ): { agent: string; byToken: boolean; tokenInAuthorization: boolean } | { status: number; error: string } {
    const own = req.headers[TOKEN_HEADER];
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const principal = typeof own === 'string' ? this.deps.principal(own) : bearer ? this.deps.principal(bearer) : undefined;
    if (typeof own === 'string' && !principal) return { status: 401, error: `the ${TOKEN_HEADER} token is not valid` };
    if (principal?.role === 'agent' && principal.agent_id)
      return { agent: principal.agent_id, byToken: true, tokenInAuthorization: typeof own !== 'string' };
    if (principal) return { status: 403, error: 'an operator token cannot make calls: use an agent token' };
    if (config.agent) return { agent: config.agent, byToken: false, tokenInAuthorization: false };
    return {
      status: 401,
      error: `an agent token is required (${TOKEN_HEADER}, or Authorization: Bearer), or runtime { http_agent } for requests without one`,
    };
  }

  /**
   * The body, read whole, when the policy must see its fields. On a matched route a body needs a
   * content type, and an operation that declares its body types takes only those (none declared:
   * no body). JSON and form bodies are read for their fields; other declared types stream through
   * unread. Unmatched requests (`http/<method>`) stream through as they are.
   */
  private async readIfGoverned(
    req: IncomingMessage,
    match: Match | undefined,
  ): Promise<{ bytes: Buffer; fields: Record<string, unknown>; form: boolean } | undefined> {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return undefined;
    const type = mediaType(req.headers['content-type']);
    if (!match) return this.unmatchedBody(req, type);
    const declared = match.route.body;
    if (!type) throw new BodyError(415, `${match.route.tool}: a request body needs a content type`);
    if (declared && !declared.some((d) => sameMediaType(d, type)))
      throw new BodyError(415, `${match.route.tool} takes ${declared.length ? declared.join(' or ') : 'no'} bodies, not ${type}`);
    const json = isJsonType(type);
    const form = type === 'application/x-www-form-urlencoded';
    if (!json && !form) return undefined;
    const { bytes, text } = await readPlain(req);
    if (form) {
      if (text.includes(';'))
        throw new BodyError(400, 'a ; in a form body is refused (some frameworks read it as a separator): send it as %3B');
      const fields = formFields(text);
      // Given twice, only a field the operation declares an array is unambiguous.
      const array = (k: string) => match.route.params.some((p) => p.in === 'body' && p.name === k && p.type === 'array');
      const repeated = Object.keys(fields).find((k) => Array.isArray(fields[k]) && !array(k));
      if (repeated) throw new BodyError(400, `the form gives '${repeated}' more than once`);
      if ('_method' in fields) throw new BodyError(400, METHOD_OVERRIDE);
      return { bytes, fields, form: true };
    }
    const value = parseStrictJson(text);
    if (namesMethod(value)) throw new BodyError(400, METHOD_OVERRIDE);
    return {
      bytes,
      fields: typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { body: value },
      form: false,
    };
  }

  /**
   * An unmatched request's form or JSON body: not arguments, but read (within the same limits) for a
   * `_method`, which Laravel, Symfony and Rails take as the method: a POST decided as `http/post`
   * would run there as a DELETE. Other bodies stream through unread.
   */
  private async unmatchedBody(
    req: IncomingMessage,
    type: string | undefined,
  ): Promise<{ bytes: Buffer; fields: Record<string, unknown>; form: boolean } | undefined> {
    const form = type === 'application/x-www-form-urlencoded';
    if (!type || (!form && !isJsonType(type))) return undefined;
    // Not arguments, so not held to UTF-8 (a Latin-1 form went through before): scanned as its bytes.
    const { bytes, text } = await readPlain(req, true);
    let named = false;
    if (form) named = formNames(text).includes('_method');
    else {
      try {
        named = namesMethod(JSON.parse(text));
      } catch {
        // Not JSON: no framework reads a method from it.
      }
    }
    if (named) throw new BodyError(400, METHOD_OVERRIDE);
    return { bytes, fields: {}, form };
  }
}

const METHOD_OVERRIDE = '_method is refused: the upstream could run another method than the one decided';

/** Whether a JSON body names `_method` (Laravel reads it as the method; Symfony's override, on its JSON input bag). */
const namesMethod = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, '_method');

/** A request body read whole, as the policy reads it (an encoded one cannot be). */
async function readPlain(req: IncomingMessage, anyBytes = false): Promise<{ bytes: Buffer; text: string }> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity')
    throw new BodyError(415, `a ${encoding}-encoded body cannot be read for the policy: send it unencoded`);
  const bytes = await readBody(req, MAX_REQUEST_BYTES, REQUEST_TIMEOUT_MS);
  if (!anyBytes) return { bytes, text: utf8(bytes) };
  try {
    return { bytes, text: utf8(bytes) };
  } catch {
    // Each byte one character: `_method` (or `%5Fmethod`) is found among bytes of any charset.
    return { bytes, text: bytes.toString('latin1') };
  }
}

/** A form's field names as Rack 2 and older Go and Python split it (on `;` as well as `&`). */
function formNames(text: string): string[] {
  return [...new URLSearchParams(text.replace(/;/g, '&')).keys()];
}

/** `Application/JSON; charset=utf-8` → `application/json`; undefined when absent or empty. */
function mediaType(header: string | undefined): string | undefined {
  const t = header?.split(';')[0]?.trim().toLowerCase();
  return t ? t : undefined;
}

/** A declared media type covers the request's: equal, a `type/*` range, or the any-type range. */
function sameMediaType(declared: string, type: string): boolean {
  if (declared === '*/*' || declared === type) return true;
  if (declared.endsWith('/*')) return type.startsWith(declared.slice(0, -1));
  // Any declared JSON type takes any JSON body (`application/json` and `application/merge-patch+json`).
  return isJsonType(declared) && isJsonType(type);
}

/** UTF-8 text, refusing bytes that are not UTF-8 (a lenient decoder would read them differently). */
function utf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BodyError(400, 'the body is not valid UTF-8');
  }
}

/** A request read under routes a swap has since replaced: nothing was decided or sent; retry. */
function policyChanged(res: ServerResponse): void {
  reply(
    res,
    503,
    {
      effect: 'DENY',
      code: 'DAEMON_NOT_READY',
      human_message: 'denied: the policy changed while this request was read; send it again',
      resolution: { type: 'retry_after', retry_after_seconds: 1 },
    },
    { 'retry-after': '1' },
  );
}

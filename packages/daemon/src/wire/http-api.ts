/**
 * The daemon's HTTP channel (`runtime { http_listen }`, TLS with `tls_cert_file`/`tls_key_file`):
 *
 *   POST /v1/evaluate          a govern request as JSON → the same decision the socket gives
 *   POST /v1/spawn_ended       children the agent spawned have ended (as the socket's `spawn_ended`)
 *   GET  /v1/approvals/<id>    where a deferred call's approval stands (read-only)
 *   POST /v1/operator          an operator request, as on the operator socket (operator token only)
 *   GET  /healthz /readyz      liveness; readiness (503 unless READY)
 *   GET  /metrics              Prometheus text
 *   anything else              the reverse proxy to `http_upstream`, when the stack has one (else 404)
 *
 * Requests from loopback may omit a token, unless they carry Origin (a web page's) or a Host that is
 * not a loopback name (DNS rebinding); any other address needs `Authorization: Bearer <token>`.
 * An agent token makes the request that agent's, whatever the body claims; only an operator token
 * reaches /v1/operator, even from loopback. Bodies over 1 MiB, slow requests and malformed JSON get
 * a JSON error, never a decision. At MAX_HTTP_CONNECTIONS a new connection takes the place of one
 * serving no request (see capConnections).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { LifecycleState } from '../lifecycle.js';
import type { Principal, TokenBook } from '../core/tokens.js';
import { refusal } from '../core/decisions.js';
import { roundedNumber } from '@faramesh/protocol';
import { NOT_READY } from './agent-protocol.js';
import { MAX_HTTP_CONNECTIONS, MAX_REQUEST_BYTES, REQUEST_TIMEOUT_MS } from './line-server.js';
import { capConnections, overShare, type Admit, type ConnectionCap } from './http-cap.js';
import { BodyError, readBody } from '../http-proxy/body.js';
import { IDLE_MS, keepEveryHeader } from '../http-proxy/http-common.js';
import { answerClientErrors } from './client-error.js';

export interface HttpApiHandlers {
  state(): LifecycleState;
  tokens: TokenBook;
  /** A decision for a govern body; `agent` is set when an agent token fixed who is asking. */
  evaluate(body: unknown, agent: string | undefined): Promise<{ status: number; body: unknown }>;
  spawnEnded(body: unknown, agent: string | undefined): Promise<{ status: number; body: unknown }>;
  /** Where an approval stands; undefined while the approvals are not loaded yet (INITIALIZING). */
  approval(id: string, agent: string | undefined): unknown;
  /** An operator request; `by` names the operator (the token) for the record. */
  operate(body: unknown, by: string): Promise<string>;
  metrics(): string;
  /** The reverse proxy, for every path that is not the daemon's own: false when the policy has none. */
  proxy?(req: IncomingMessage, res: ServerResponse, admit: Admit): Promise<boolean>;
}

export interface HttpListen {
  host: string;
  port: number;
  tls?: { cert: string; key: string };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class HttpApi {
  private server?: Server;
  private cap?: ConnectionCap;

  constructor(private readonly handlers: HttpApiHandlers) {}

  async listen(at: HttpListen): Promise<AddressInfo> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.serve(req, res);
    // Node checks the headers deadline on this interval (30 s by default): a client trickling its
    // headers would otherwise be cut near 30 s, not at REQUEST_TIMEOUT_MS.
    const checking = { connectionsCheckingInterval: 1000 };
    const server = at.tls
      ? createHttpsServer(
          // A connection that never finishes its TLS handshake is cut like one that never sends its
          // headers (Node's default waits 120 s: 512 silent connections would hold the API that long).
          { ...checking, handshakeTimeout: REQUEST_TIMEOUT_MS, cert: readFileSync(at.tls.cert), key: readFileSync(at.tls.key) },
          handler,
        )
      : createHttpServer(checking, handler);
    // Proxied requests may stream for long; the daemon's own bodies are read within REQUEST_TIMEOUT_MS.
    server.requestTimeout = 0;
    // Not maxConnections, which only drops newcomers: connections sending nothing could hold it (see capConnections).
    this.cap = capConnections(server, MAX_HTTP_CONNECTIONS);
    // The reverse proxy sends a body on framed as req.headers say: none may be dropped (see keepEveryHeader).
    keepEveryHeader(server);
    // A connection with nothing moving either way for this long is dropped (a stalled upload or reader).
    server.timeout = IDLE_MS;
    server.headersTimeout = REQUEST_TIMEOUT_MS;
    server.keepAliveTimeout = 5_000;
    answerClientErrors(server);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  /** Stop accepting, let requests in progress finish, drop idle keep-alive connections. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://daemon');
      // Several agents share this listener: one agent's requests in flight may fill only its share of it.
      const admit = (r: IncomingMessage, agent: string) => this.cap?.admit(r, agent) ?? true;
      if (this.handlers.proxy && !isDaemonPath(url.pathname) && (await this.handlers.proxy(req, res, admit))) return;
      // Until the token file has been checked against the log, a token is neither valid nor invalid:
      // a decision is DAEMON_NOT_READY (which SDKs retry), anything else waits likewise.
      if (req.headers.authorization !== undefined && !this.handlers.tokens.loaded) {
        res.setHeader('retry-after', String(NOT_READY.resolution.retry_after_seconds));
        if (url.pathname === '/v1/evaluate') return json(res, 200, refusal('', NOT_READY, performance.now()));
        throw new HttpError(503, 'not_ready', `the daemon is ${this.handlers.state()}: tokens are accepted once it has checked them`);
      }
      const who = this.authenticate(req);
      const route = `${req.method} ${url.pathname}`;
      if (url.pathname === '/healthz' || url.pathname === '/readyz' || url.pathname === '/metrics') {
        // HEAD too, as load balancers probe: Node sends the status and headers without the body.
        if (req.method !== 'HEAD') allow(req, 'GET');
        if (url.pathname === '/metrics') return send(res, 200, this.handlers.metrics(), 'text/plain; version=0.0.4');
        const state = this.handlers.state();
        const ok = url.pathname === '/healthz' || state === 'READY';
        return json(res, ok ? 200 : 503, { state });
      }
      if (url.pathname === '/v1/evaluate') {
        allow(req, 'POST');
        if (who?.role === 'operator') throw new HttpError(403, 'forbidden', 'an operator token cannot make decisions; use an agent token');
        if (who?.agent_id !== undefined && !admit(req, who.agent_id)) {
          res.setHeader('retry-after', '5');
          throw new HttpError(429, 'too_many_requests', overShare(who.agent_id));
        }
        const reply = await this.handlers.evaluate(await readJson(req), who?.agent_id);
        return json(res, reply.status, reply.body);
      }
      if (url.pathname === '/v1/spawn_ended') {
        allow(req, 'POST');
        if (who?.role === 'operator') throw new HttpError(403, 'forbidden', "an operator ends an agent's spawns through /v1/operator");
        const reply = await this.handlers.spawnEnded(await readJson(req), who?.agent_id);
        // Not ready yet: a retry in a moment will be heard, as for a decision.
        if (reply.status === 503) res.setHeader('retry-after', String(NOT_READY.resolution.retry_after_seconds));
        return json(res, reply.status, reply.body);
      }
      const approval = /^\/v1\/approvals\/([^/]+)$/.exec(url.pathname);
      if (approval) {
        allow(req, 'GET');
        const agent = who?.role === 'agent' ? who.agent_id : undefined;
        const status = this.handlers.approval(decodePathSegment(approval[1]!), agent);
        // Not loaded yet: "unknown" would tell a waiting agent that its pending approval is gone.
        if (status === undefined) {
          res.setHeader('retry-after', String(NOT_READY.resolution.retry_after_seconds));
          throw new HttpError(503, 'not_ready', `the daemon is ${this.handlers.state()}: approvals are read once it has loaded them`);
        }
        return json(res, 200, status);
      }
      if (url.pathname === '/v1/operator') {
        allow(req, 'POST');
        if (who?.role !== 'operator')
          throw new HttpError(who ? 403 : 401, who ? 'forbidden' : 'unauthorized', 'the operator API needs an operator token');
        return send(res, 200, await this.handlers.operate(await readJson(req), `token:${who.name}`), 'application/json');
      }
      throw new HttpError(404, 'not_found', `no route ${route}`);
    } catch (e) {
      if (e instanceof BodyError) {
        // A body that stalled may never come: the connection ends with this reply. One too large is
        // read on and dropped, as Node does after an early reply, so its client, still sending, hears why.
        if (e.status === 408) res.setHeader('connection', 'close');
        const code = e.status === 413 ? 'too_large' : e.status === 408 ? 'request_timeout' : 'bad_request';
        return json(res, e.status, { error: { code, message: e.message } });
      }
      if (e instanceof HttpError) {
        if (e.status === 401) res.setHeader('www-authenticate', 'Bearer');
        return json(res, e.status, { error: { code: e.code, message: e.message } });
      }
      // Never a permit: an unexpected failure is an error reply.
      return json(res, 500, { error: { code: 'internal', message: (e as Error).message } });
    }
  }

  /** The token's principal; none from loopback without a token; anything else without a valid token is refused. */
  private authenticate(req: IncomingMessage): Principal | undefined {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      const who = m ? this.handlers.tokens.lookup(m[1]!) : undefined;
      if (!who) throw new HttpError(401, 'unauthorized', 'the bearer token is not valid');
      return who;
    }
    if (isLoopback(req.socket.remoteAddress)) {
      // Loopback is trusted as the machine's own clients, not as every web page a browser on it shows:
      // a browser sends Origin with every POST (a cross-site form or no-cors fetch needs no preflight),
      // and a page that rebinds its own name to 127.0.0.1 sends that name as Host.
      if (req.headers.origin !== undefined)
        throw new HttpError(403, 'forbidden', 'a request from a web page (it carries Origin) needs a bearer token, even from loopback');
      if (!isLoopbackHost(req.headers.host))
        throw new HttpError(
          403,
          'forbidden',
          'without a bearer token, Host must name loopback (localhost, 127.0.0.1, [::1]): another name may be a rebound DNS name',
        );
      return undefined;
    }
    throw new HttpError(401, 'unauthorized', 'a bearer token is required from a non-loopback address');
  }
}

/**
 * Whether a Host header names this machine's loopback (`localhost`, `127.x.x.x`, `[::1]`, any port),
 * or the wildcard address a listener on `0.0.0.0`/`[::]` is reached by from this machine (the URL
 * the daemon prints for it): an address, never a name a page could rebind. An absent Host (HTTP/1.0)
 * counts, a browser always sends one.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const h = host.trim().toLowerCase();
  const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.replace(/:\d*$/, '');
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return bare === 'localhost' || bare === '[::1]' || bare === '0.0.0.0' || bare === '[::]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** The daemon's own paths (and every path under /v1/approvals/), which the reverse proxy never takes. */
export const DAEMON_PATHS = ['/v1/evaluate', '/v1/spawn_ended', '/v1/operator', '/healthz', '/readyz', '/metrics'];

export function isDaemonPath(path: string): boolean {
  return DAEMON_PATHS.includes(path) || path.startsWith('/v1/approvals/');
}

/** A percent-encoded path segment; a malformed escape (`%E0%A4%A`) is the client's error, not the daemon's. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'bad_request', 'the path holds a malformed percent-escape');
  }
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, 'method_not_allowed', `${req.url} takes ${method}, not ${req.method}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\b/i.test(type))
    throw new HttpError(415, 'unsupported_media_type', 'send application/json');
  const text = (await readBody(req, MAX_REQUEST_BYTES, REQUEST_TIMEOUT_MS)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not JSON');
  }
  const rounded = roundedNumber(text);
  if (rounded) throw new HttpError(400, 'bad_request', rounded);
  return value;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json');
}

function send(res: ServerResponse, status: number, text: string, type: string): void {
  const bytes = Buffer.from(text);
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length, 'cache-control': 'no-store' });
  res.end(bytes);
}

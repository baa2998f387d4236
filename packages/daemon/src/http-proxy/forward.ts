/**
 * The forward HTTP proxy, for agents that honour HTTP_PROXY/HTTPS_PROXY: every request is a decision
 * before anything leaves the host.
 * - Plain HTTP (`GET http://host/path`): the tool `http/<method>`, with host, method, path and query as
 *   arguments and HTTP fields (headers too, minus any that carry credentials), then forwarded.
 * - CONNECT (HTTPS): the tool `http/connect`, decided on host and port, then tunnelled as it is: the
 *   proxy does not see inside TLS. A tunnel must carry TLS: one whose first bytes are not a TLS
 *   handshake is closed, so plain HTTP cannot slip past the request-level rules through CONNECT.
 * - With TLS inspection on for the host (`runtime { https_inspection }`), the proxy ends the agent's
 *   TLS itself with a certificate from the stack's CA, and each request inside becomes its own
 *   decision (`http/<method>`, as for plain HTTP) and gets its credential, before going on to the
 *   host over a new, verified TLS connection to the address the CONNECT checked.
 * The host is resolved once, before the decision; the engine's SSRF guard checks those addresses,
 * and the connection goes to the address checked (a name cannot re-resolve elsewhere meanwhile).
 * A denial is 403 with the structured denial as JSON (and the approval id, for a defer).
 */
import { lookup } from 'node:dns/promises';
import {
  Agent as HttpAgent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect, isIP, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { pipeline, type Duplex } from 'node:stream';
import type { HttpFields } from '@faramesh/protocol';
import type { GovernParams, GovernResult } from '../wire/agent-protocol.js';
import { mirrorOnUnix } from '../wire/unix-mirror.js';
import { MAX_HTTP_CONNECTIONS } from '../wire/line-server.js';
import { capConnections, overShare, type Admit } from '../wire/http-cap.js';
import type { StackCa } from './stack-ca.js';
import { canonicalHost } from './inspection.js';
import { formFields } from './body.js';
import { cleanPath, RouteError } from './routes.js';
import { cleartextTo, type Carrier } from '../credentials/carrier.js';
import {
  denialBody,
  errorBody,
  frameBody,
  HOP,
  IDLE_MS,
  keepEveryHeader,
  notReady,
  reply,
  requestIdOf,
  SECRET,
  sendableStatus,
} from './http-common.js';
import { answerClientErrors } from '../wire/client-error.js';
import { NOT_READY } from '../wire/agent-protocol.js';
import { ownAddresses } from './own-addresses.js';

export interface ForwardDeps {
  /** `carrier`: set when the request is plain HTTP off this machine (a bound credential may not go there). */
  decide(params: GovernParams, tool: string, http: HttpFields, carrier?: Carrier): Promise<GovernResult> | GovernResult;
  /** The agent a proxy credential (an agent token) speaks for. */
  agentFor(token: string): string | undefined;
  ready(): boolean;
  say(line: string): void;
  /** A host's addresses (default: the system resolver, once per request); tests stand in a rebinding DNS. */
  lookup?(host: string): Promise<string[]>;
  /** TLS inspection: the stack CA, and which CONNECT hosts it applies to. */
  inspect?: { ca: StackCa; host(host: string): boolean };
  /** How long a CONNECT tunnel may carry nothing either way before it is closed (default IDLE_MS); tests shorten it. */
  idleMs?: number;
}

/** Where a request goes: plain HTTP from its absolute URL, or HTTPS inside an inspected tunnel. */
interface Target {
  protocol: 'http:' | 'https:';
  /** As the agent wrote it (the policy sees this), and bare, as resolved. */
  hostname: string;
  host: string;
  port: number;
  path: string;
  search: string;
  /** Addresses already checked (the tunnel's), else resolved now. */
  addresses?: string[];
}

/** What an inspected tunnel carries: whose it is and where it was permitted to go. */
interface Tunnel {
  agent: string;
  /** The agent token the CONNECT carried (the shared port): it must still be valid for each request inside. */
  token?: string;
  host: string;
  port: number;
  addresses: string[];
}

export class ForwardProxy {
  private readonly servers: { close(cb: () => void): unknown }[] = [];
  private readonly sockets = new Set<Duplex>();
  /** Upstream connections are kept alive and reused (pooled by the checked address and port). */
  private readonly pool = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  private readonly tlsPool = new HttpsAgent({ keepAlive: true, maxSockets: 256 });
  /** Serves the requests of inspected tunnels (each TLS socket is handed to it as a connection). */
  private readonly inspected: Server;
  private readonly tunnels = new WeakMap<Socket, Tunnel>();

  constructor(private readonly deps: ForwardDeps) {
    this.inspected = createServer((req, res) => {
      const t = this.tunnels.get(req.socket);
      if (!t) return reply(res, 500, errorBody(500, 'not an inspected tunnel'));
      // A token revoked (or rebound) since the CONNECT no longer speaks for the agent: the requests
      // inside carry no token of their own, so the tunnel's is checked again for each.
      if (t.token !== undefined && this.deps.agentFor(t.token) !== t.agent) {
        reply(res, 407, errorBody(407, 'the agent token this tunnel was opened with is no longer valid'), { connection: 'close' });
        return;
      }
      const target = judgedPath(req.url ?? '/', res);
      if (!target) return;
      const given = (req.headers.host ?? '').replace(/:\d+$/, '');
      const named = given === '' ? undefined : (canonicalHost(given) ?? given);
      // The tunnel was permitted for one host: a request naming another is refused, not followed.
      if (named !== undefined && named !== t.host)
        return reply(res, 421, errorBody(421, `this tunnel was permitted for ${t.host}, not ${named}`));
      void this.forward(req, res, t.agent, {
        protocol: 'https:',
        hostname: t.host,
        host: t.host,
        port: t.port,
        ...target,
        addresses: t.addresses,
      }).catch((e: Error) => reply(res, 502, errorBody(502, e.message)));
    });
    keepEveryHeader(this.inspected);
  }

  /**
   * Listen on 127.0.0.1:`port`; `agent` fixes whose traffic it is (an agent's own port). `mirror`: a
   * Unix socket that serves the same traffic, for sandboxed agents.
   */
  async listen(port: number, agent?: string, mirror?: string): Promise<number> {
    const server = createServer();
    // Not maxConnections, which only drops newcomers: connections sending nothing could hold it (see capConnections).
    const cap = capConnections(server, MAX_HTTP_CONNECTIONS);
    // On the shared port, one agent's requests and tunnels may not fill the cap (an agent's own port is its alone).
    const admit: Admit = agent === undefined ? cap.admit : () => true;
    server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.plain(req, res, agent, admit).catch((e: Error) => reply(res, 502, errorBody(502, e.message))),
    );
    keepEveryHeader(server);
    answerClientErrors(server);
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      cap.hold(socket);
      // Once CONNECT hands the socket over, its errors are ours: a client that resets must not crash the daemon.
      socket.on('error', () => socket.destroy());
      void this.tunnel(req, socket, head, agent, admit).catch(() => socket.destroy());
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.servers.push(server);
    if (mirror) this.servers.push(await mirrorOnUnix(server, mirror));
    return (server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    this.pool.destroy();
    this.tlsPool.destroy();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private who(req: IncomingMessage, fixed: string | undefined): string | undefined {
    if (fixed) return fixed;
    const token = this.tokenOf(req);
    return token ? this.deps.agentFor(token) : undefined;
  }

  /** The agent token a request carries as its proxy credential. */
  private tokenOf(req: IncomingMessage): string | undefined {
    const auth = req.headers['proxy-authorization'] ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    // curl -x http://agent:TOKEN@host:port sends Basic: the password is the token.
    const basic = /^Basic\s+(\S+)$/i.exec(auth)?.[1];
    return bearer ?? (basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':') : undefined);
  }

  private async plain(req: IncomingMessage, res: ServerResponse, fixed: string | undefined, admit: Admit): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return reply(res, 400, errorBody(400, 'this is a forward proxy: send absolute URLs (http://host/path), or CONNECT for https'));
    }
    if (url.protocol !== 'http:') return reply(res, 400, errorBody(400, `${url.protocol} through a forward proxy is CONNECT's job`));
    const agent = this.who(req, fixed);
    if (!agent)
      return reply(res, 407, errorBody(407, 'proxy credentials required: an agent token (faramesh token issue --agent <id>)'), {
        'proxy-authenticate': 'Basic realm="faramesh"',
      });
    if (!admit(req, agent)) return reply(res, 429, errorBody(429, overShare(agent)), { 'retry-after': '5' });
    if (!this.deps.ready()) return notReady(res);
    const target = judgedPath(url.href, res);
    if (!target) return;
    return this.forward(req, res, agent, {
      protocol: 'http:',
      hostname: url.hostname,
      host: bare(url.hostname),
      port: Number(url.port || 80),
      ...target,
    });
  }

  /** Decide one request, then send it on with its credential and pipe the answer back. */
  private async forward(req: IncomingMessage, res: ServerResponse, agent: string, t: Target): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const query = formFields(t.search);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && !SECRET.test(k) && typeof v === 'string') headers[k] = v;
    const addresses = t.addresses ?? (await (this.deps.lookup ?? resolve)(t.host));
    const tool = `http/${method.toLowerCase()}`;
    const result = await this.deps.decide(
      // The scheme and port too: a rule on the host alone would otherwise let any port, and plain HTTP, through.
      {
        agent_id: agent,
        tool_id: tool,
        args: { scheme: t.protocol.slice(0, -1), host: t.hostname, port: t.port, method, path: t.path, query },
        ...requestIdOf(req.headers),
      },
      tool,
      { host: t.hostname, method, path: t.path, query, headers, addresses, own_addresses: ownAddresses(addresses) },
      cleartextTo(t.protocol, t.hostname, addresses),
    );
    if (result.effect !== 'PERMIT') return reply(res, 403, denialBody(result), { 'x-faramesh-action-id': result.action_id ?? '' });
    if (addresses.length === 0) return reply(res, 502, errorBody(502, `${t.host} does not resolve`));
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && v !== undefined) out[k] = v;
    frameBody(req, out);
    // The host the policy judged, whatever Host the agent sent beside it (RFC 9112 §3.2.2): a shared
    // front end would otherwise route the request, and its credential, to another virtual host.
    out.host = hostHeader(t);
    // A brokered credential goes into the request here, at the boundary: the agent never sees it.
    if (result.credential) out[result.credential.header.toLowerCase()] = result.credential.value;
    const options = { host: addresses[0], port: t.port, method, path: `${t.path}${t.search}`, headers: out, setHost: false };
    const upstream =
      t.protocol === 'https:'
        ? // Verified as usual, for the name the agent asked for, at the address that was checked.
          httpsRequest({ ...options, agent: this.tlsPool, ...(isIP(t.host) ? {} : { servername: t.host }) })
        : httpRequest({ ...options, agent: this.pool });
    upstream.setTimeout(IDLE_MS, () => upstream.destroy(new Error(`idle for ${IDLE_MS / 1000} s`)));
    // A client that leaves takes the upstream request with it: its socket goes back, or away.
    res.once('close', () => res.writableFinished || upstream.destroy());
    upstream.on('response', (r) => {
      if (!sendableStatus(r.statusCode)) {
        r.destroy();
        return reply(res, 502, errorBody(502, `${t.host} answered with status ${r.statusCode}`));
      }
      const back: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (!HOP.has(k) && v !== undefined) back[k] = v;
      res.writeHead(r.statusCode, back);
      pipeline(r, res, () => {});
    });
    upstream.on('error', (e) => (res.headersSent ? res.destroy() : reply(res, 502, errorBody(502, `${t.host}: ${e.message}`))));
    // Node's client closes a request with neither 'response' nor 'error' when the upstream switches
    // protocols (101) unasked: without this the agent would wait for an answer for ever.
    upstream.once('close', () => res.headersSent || reply(res, 502, errorBody(502, `${t.host} closed the connection without an answer`)));
    pipeline(req, upstream, () => {});
  }

  private async tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, fixed: string | undefined, admit: Admit): Promise<void> {
    const refuse = (status: number, text: string, body: object) => {
      const json = JSON.stringify(body);
      // Closed once the refusal is sent, not left half-open for the client to close: the port's cap
      // holds a CONNECT's socket as a tunnel, never evicted, and a client that kept refused ones
      // open (no credentials, a bad target: no agent's share counts them) would fill it.
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`,
        () => socket.destroy(),
      );
    };
    // A host name's characters, or an IPv6 literal: the string decided on is the one resolved and
    // matched, so nothing a resolver might read differently (`api.example.com/x.evil.test`) passes.
    const target = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(req.url ?? '');
    const port = Number(target?.[2]);
    if (!target || port < 1 || port > 65535)
      return refuse(400, 'Bad Request', errorBody(400, 'CONNECT needs host:port (a host name or IP address, a port from 1 to 65535)'));
    // One spelling for the decision, the lookup and the inspected-hosts match: `2130706433` is
    // 127.0.0.1 to the resolver and to the policy, so it must be to the inspection list too.
    const host = canonicalHost(target[1]!);
    if (host === undefined) return refuse(400, 'Bad Request', errorBody(400, `'${target[1]}' is not a host name or IP address`));
    const agent = this.who(req, fixed);
    if (!agent) return refuse(407, 'Proxy Authentication Required', errorBody(407, 'proxy credentials required: an agent token'));
    if (!admit(req, agent)) return refuse(429, 'Too Many Requests', errorBody(429, overShare(agent)));
    if (!this.deps.ready()) return refuse(503, 'Service Unavailable', { effect: 'DENY', ...NOT_READY });
    const addresses = await (this.deps.lookup ?? resolve)(host);
    const result = await this.deps.decide(
      { agent_id: agent, tool_id: 'http/connect', args: { host, port, method: 'CONNECT' }, ...requestIdOf(req.headers) },
      'http/connect',
      { host, method: 'CONNECT', addresses, own_addresses: ownAddresses(addresses) },
    );
    if (result.effect !== 'PERMIT') return refuse(403, 'Forbidden', denialBody(result));
    if (addresses.length === 0) return refuse(502, 'Bad Gateway', errorBody(502, `${host} does not resolve`));
    // A tunnel nobody uses is closed, as an idle plain request is: the cap never evicts a tunnel, so
    // idle ones would hold their connections for ever. The agent's socket sees every byte either way
    // (inspected or not), and its close takes the upstream side with it.
    const idleMs = this.deps.idleMs ?? IDLE_MS;
    (socket as Socket).setTimeout(idleMs, () => {
      this.deps.say(`http proxy: closed a CONNECT tunnel to ${host}:${port} idle for ${idleMs / 1000} s`);
      socket.destroy();
    });
    if (this.deps.inspect?.host(host)) {
      const token = fixed ? undefined : this.tokenOf(req);
      return this.inspect(socket, head, { agent, host, port, addresses, ...(token ? { token } : {}) }, this.deps.inspect.ca);
    }
    // An agent that hung up while its CONNECT was decided can send no handshake now, and its socket,
    // left half open (the HTTP server allows that), would hold a tunnel, and the host's side, for ever.
    if (hungUp(socket)) return void socket.destroy();
    const upstream = connect(port, addresses[0]!);
    upstream.once('connect', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      // The first bytes through must open a TLS handshake (a record of type 22), and the ClientHello
      // may name no other server than the one decided: a shared front end (a CDN) routes by that
      // name, so another would carry the tunnel to a host no one decided (domain fronting).
      let held: Buffer = Buffer.alloc(0);
      const close = (why: string) => {
        this.deps.say(`http proxy: closed a CONNECT tunnel to ${host}:${port} that ${why}`);
        socket.destroy();
        upstream.destroy();
      };
      const first = (chunk: Buffer) => {
        held = held.length ? Buffer.concat([held, chunk]) : chunk;
        const hello = clientHello(held);
        if (hello === 'more') return;
        socket.off('data', first);
        socket.off('end', ended);
        if (hello === 'not-tls') return close('did not carry TLS');
        if (hello.sni !== undefined && hello.sni.toLowerCase().replace(/\.$/, '') !== host.toLowerCase())
          return close(`named another server in its TLS handshake (${hello.sni.slice(0, 255)})`);
        upstream.write(held);
        upstream.pipe(socket).pipe(upstream);
      };
      // Nor may it hang up before its handshake has passed: nothing is piped yet to end either side.
      const ended = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.once('end', ended);
      socket.on('data', first);
      if (head.length) {
        socket.pause();
        first(head);
        socket.resume();
      }
    });
    // Before 'connect' the client has heard nothing yet: it gets a 502. (readyState is no guide here:
    // a failed connect reads 'closed' by the time 'error' fires.)
    let connected = false;
    upstream.once('connect', () => (connected = true));
    upstream.on('error', (e) => (connected ? socket.destroy() : refuse(502, 'Bad Gateway', errorBody(502, `${host}: ${e.message}`))));
    socket.on('close', () => upstream.destroy());
  }

  /**
   * End the agent's TLS here with a leaf from the stack CA, and serve what comes through as
   * requests. A tunnel that does not open with a TLS handshake fails that handshake and is closed.
   */
  private async inspect(socket: Duplex, head: Buffer, t: Tunnel, ca: StackCa): Promise<void> {
    const secureContext = await ca.contextFor(t.host);
    if (hungUp(socket)) return void socket.destroy();
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    const tls = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    tls.on('error', () => {
      this.deps.say(
        `http proxy: closed an inspected tunnel to ${t.host}:${t.port} (no TLS handshake, or the agent does not trust the stack CA)`,
      );
      tls.destroy();
      socket.destroy();
    });
    this.tunnels.set(tls, t);
    this.inspected.emit('connection', tls);
  }
}

/** The agent has hung up (a CONNECT's socket ends before the proxy reads it: its HTTP parser read the end). */
const hungUp = (socket: Duplex) => socket.destroyed || socket.readableEnded;

/** A URL's host as a resolver takes it: no IPv6 brackets, no trailing dot. */
const bare = (host: string) => host.replace(/^\[|\]$/g, '').replace(/\.$/, '');

/** The addresses a host resolves to, once (an IP literal is itself). */
async function resolve(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/** The Host header for a target: its name (bracketed when IPv6), and its port unless the scheme's default. */
/**
 * The path the policy judges and the upstream gets, the same one: dot segments resolved, slashes
 * collapsed, needless escapes decoded (`/ad%6Din` is `/admin`). Undefined, with the refusal sent,
 * for a path an upstream could read otherwise (an encoded slash, a `;`).
 */
function judgedPath(target: string, res: ServerResponse): { path: string; search: string } | undefined {
  try {
    return cleanPath(target);
  } catch (e) {
    if (!(e instanceof RouteError)) throw e;
    reply(res, e.status, errorBody(e.status, e.message));
    return undefined;
  }
}

function hostHeader(t: Target): string {
  const name = isIP(t.host) === 6 ? `[${t.host}]` : t.host;
  return t.port === (t.protocol === 'https:' ? 443 : 80) ? name : `${name}:${t.port}`;
}

/**
 * The server name a TLS ClientHello asks for, read from the first record of a tunnel: `more` while
 * that record is incomplete, `not-tls` for anything but one whole ClientHello in it (a hello split
 * over records could hide its name from this check).
 */
export function clientHello(b: Buffer): 'more' | 'not-tls' | { sni?: string } {
  if (b.length >= 1 && b[0] !== 0x16) return 'not-tls';
  if (b.length < 5) return 'more';
  const length = b.readUInt16BE(3);
  if (length > 16_384 + 2048) return 'not-tls';
  if (b.length < 5 + length) return 'more';
  const rec = b.subarray(5, 5 + length);
  if (rec.length < 4 || rec[0] !== 0x01) return 'not-tls';
  const body = rec.subarray(4);
  if (rec.readUIntBE(1, 3) !== body.length) return 'not-tls';
  let at = 2 + 32;
  const skip = (width: 1 | 2) => {
    if (at + width > body.length) throw new Error('short');
    const n = width === 1 ? body[at]! : body.readUInt16BE(at);
    at += width + n;
  };
  try {
    skip(1); // session id
    skip(2); // cipher suites
    skip(1); // compression methods
    if (at === body.length) return {};
    const end = at + 2 + body.readUInt16BE(at);
    at += 2;
    if (end !== body.length) return 'not-tls';
    while (at + 4 <= end) {
      const type = body.readUInt16BE(at);
      const size = body.readUInt16BE(at + 2);
      at += 4;
      if (at + size > end) return 'not-tls';
      if (type === 0) {
        // server_name: a list of one host_name (type 0) entry.
        const list = body.subarray(at, at + size);
        if (list.length < 5 || list.readUInt16BE(0) !== list.length - 2 || list[2] !== 0) return 'not-tls';
        const n = list.readUInt16BE(3);
        if (5 + n !== list.length) return 'not-tls';
        return { sni: list.subarray(5).toString('latin1') };
      }
      at += size;
    }
    return at === end ? {} : 'not-tls';
  } catch {
    return 'not-tls';
  }
}

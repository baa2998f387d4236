/**
 * The forward HTTP proxy, for agents that honour HTTP_PROXY/HTTPS_PROXY: every request is a decision
 * before anything leaves the host.
 * - Plain HTTP (`GET http://host/path`): the tool `http/<method>`, with host, method, path and query as
 *   arguments and HTTP fields (headers too, minus any that carry credentials), then forwarded.
 * - CONNECT (HTTPS): the tool `http/connect`, decided on host and port, then tunnelled as it is: the
 *   proxy does not see inside TLS. A tunnel must carry TLS: one whose first bytes are not a TLS
 *   handshake is closed, so plain HTTP cannot slip past the request-level rules through CONNECT.
 * The host is resolved once, before the decision; the engine's SSRF guard checks those addresses,
 * and the connection goes to the address checked (a name cannot re-resolve elsewhere meanwhile).
 * A denial is 403 with the structured denial as JSON (and the approval id, for a defer).
 */
import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HttpFields } from '@faramesh/protocol';
import type { GovernParams, GovernResult } from '../wire/agent-protocol.js';
import { mirrorOnUnix } from '../wire/unix-mirror.js';

export interface ForwardDeps {
  decide(params: GovernParams, tool: string, http: HttpFields): Promise<GovernResult> | GovernResult;
  /** The agent a proxy credential (an agent token) speaks for. */
  agentFor(token: string): string | undefined;
  ready(): boolean;
  say(line: string): void;
  /** A host's addresses (default: the system resolver, once per request); tests stand in a rebinding DNS. */
  lookup?(host: string): Promise<string[]>;
}

/** Never passed on, never shown to the policy: they belong to this hop, or carry credentials. */
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const SECRET =
  /^(authorization|cookie|set-cookie|proxy-authorization|x-api-key|api-key|x-auth-token|x-amz-security-token)$|token|secret|password/i;

export class ForwardProxy {
  private readonly servers: { close(cb: () => void): unknown }[] = [];
  private readonly sockets = new Set<Duplex>();
  /** Upstream connections are kept alive and reused (pooled by the checked address and port). */
  private readonly pool = new HttpAgent({ keepAlive: true, maxSockets: 256 });

  constructor(private readonly deps: ForwardDeps) {}

  /**
   * Listen on 127.0.0.1:`port`; `agent` fixes whose traffic it is (an agent's own port). `mirror`: a
   * Unix socket that serves the same traffic, for sandboxed agents.
   */
  async listen(port: number, agent?: string, mirror?: string): Promise<number> {
    const server = createServer((req, res) => void this.plain(req, res, agent).catch((e: Error) => reply(res, 502, { error: e.message })));
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Once CONNECT hands the socket over, its errors are ours: a client that resets must not crash the daemon.
      socket.on('error', () => socket.destroy());
      void this.tunnel(req, socket, head, agent).catch(() => socket.destroy());
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
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private who(req: IncomingMessage, fixed: string | undefined): string | undefined {
    if (fixed) return fixed;
    const auth = req.headers['proxy-authorization'] ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    // curl -x http://agent:TOKEN@host:port sends Basic: the password is the token.
    const basic = /^Basic\s+(\S+)$/i.exec(auth)?.[1];
    const token = bearer ?? (basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':') : undefined);
    return token ? this.deps.agentFor(token) : undefined;
  }

  private async plain(req: IncomingMessage, res: ServerResponse, fixed: string | undefined): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return reply(res, 400, { error: 'this is a forward proxy: send absolute URLs (http://host/path), or CONNECT for https' });
    }
    if (url.protocol !== 'http:') return reply(res, 400, { error: `${url.protocol} through a forward proxy is CONNECT's job` });
    const agent = this.who(req, fixed);
    if (!agent)
      return reply(
        res,
        407,
        { error: 'proxy credentials required: an agent token (faramesh token issue --agent <id>)' },
        { 'proxy-authenticate': 'Basic realm="faramesh"' },
      );
    if (!this.deps.ready()) return reply(res, 503, { error: 'the daemon is not ready (DAEMON_NOT_READY)' }, { 'retry-after': '2' });
    const host = bare(url.hostname);
    const port = Number(url.port || 80);
    const method = (req.method ?? 'GET').toUpperCase();
    const query: Record<string, string | string[]> = {};
    for (const k of new Set(url.searchParams.keys())) {
      const all = url.searchParams.getAll(k);
      query[k] = all.length === 1 ? all[0]! : all;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && !SECRET.test(k) && typeof v === 'string') headers[k] = v;
    const addresses = await (this.deps.lookup ?? resolve)(host);
    const result = await this.deps.decide(
      { agent_id: agent, tool_id: `http/${method.toLowerCase()}`, args: { host: url.hostname, method, path: url.pathname, query } },
      `http/${method.toLowerCase()}`,
      { host: url.hostname, method, path: url.pathname, query, headers, addresses },
    );
    if (result.effect !== 'PERMIT') return reply(res, 403, denialBody(result), { 'x-faramesh-action-id': result.action_id ?? '' });
    if (addresses.length === 0) return reply(res, 502, { error: `${host} does not resolve` });
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && v !== undefined) out[k] = v;
    // A brokered credential goes into the request here, at the boundary: the agent never sees it.
    if (result.credential) out[result.credential.header.toLowerCase()] = result.credential.value;
    const upstream = httpRequest({
      host: addresses[0],
      port,
      method,
      path: `${url.pathname}${url.search}`,
      headers: out,
      setHost: false,
      agent: this.pool,
    });
    upstream.on('response', (r) => {
      const back: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (!HOP.has(k) && v !== undefined) back[k] = v;
      res.writeHead(r.statusCode ?? 502, back);
      r.pipe(res);
    });
    upstream.on('error', (e) => (res.headersSent ? res.destroy() : reply(res, 502, { error: `${host}: ${e.message}` })));
    req.pipe(upstream);
  }

  private async tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, fixed: string | undefined): Promise<void> {
    const refuse = (status: number, text: string, body: object) => {
      const json = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`,
      );
    };
    const target = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? '');
    if (!target) return refuse(400, 'Bad Request', { error: 'CONNECT needs host:port' });
    const host = bare(target[1]!);
    const port = Number(target[2]);
    const agent = this.who(req, fixed);
    if (!agent) return refuse(407, 'Proxy Authentication Required', { error: 'proxy credentials required: an agent token' });
    if (!this.deps.ready()) return refuse(503, 'Service Unavailable', { error: 'the daemon is not ready (DAEMON_NOT_READY)' });
    const addresses = await (this.deps.lookup ?? resolve)(host);
    const result = await this.deps.decide(
      { agent_id: agent, tool_id: 'http/connect', args: { host, port, method: 'CONNECT' } },
      'http/connect',
      { host, method: 'CONNECT', addresses },
    );
    if (result.effect !== 'PERMIT') return refuse(403, 'Forbidden', denialBody(result));
    if (addresses.length === 0) return refuse(502, 'Bad Gateway', { error: `${host} does not resolve` });
    const upstream = connect(port, addresses[0]!);
    upstream.once('connect', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      // The first bytes through must open a TLS handshake (a record of type 22).
      const first = (chunk: Buffer) => {
        if (chunk[0] !== 0x16) {
          this.deps.say(`http proxy: closed a CONNECT tunnel to ${host}:${port} that did not carry TLS`);
          socket.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(chunk);
        upstream.pipe(socket).pipe(upstream);
      };
      if (head.length) first(head);
      else socket.once('data', first);
    });
    upstream.on('error', (e) =>
      upstream.readyState === 'opening' ? refuse(502, 'Bad Gateway', { error: `${host}: ${e.message}` }) : socket.destroy(),
    );
    socket.on('close', () => upstream.destroy());
  }
}

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

function denialBody(r: GovernResult): Record<string, unknown> {
  return {
    effect: r.effect,
    ...(r.structured_denial ?? { code: r.reason_code ?? 'POLICY_DENY' }),
    ...(r.action_id ? { action_id: r.action_id } : {}),
    ...(r.defer_token ? { approval_id: r.defer_token } : {}),
  };
}

function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

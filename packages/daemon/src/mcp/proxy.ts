/**
 * The MCP proxy's HTTP side: each upstream at `/mcp/<name>` over Streamable HTTP, on the stack's
 * shared port (`runtime { mcp_proxy_port }`: the agent is the one its bearer token was issued to,
 * else the request is refused) and on each agent's own port (`enforcement { mcp_proxy_port }`:
 * traffic there is that agent). A client session gets its own upstream connection, bound to the
 * agent and server it began with. Legacy SSE clients use `/mcp/<name>/sse` (the event stream) and
 * the `/mcp/<name>/messages` endpoint it names.
 *
 * Each session holds an upstream (a stdio server is a child process), so sessions are bounded: an
 * agent keeps at most `perAgent` open, its least recently used one without a call in flight closing
 * to make room, and a session with nothing open (no call, no event stream) for `idleMs` is closed.
 * Its client hears 404 and initializes again, as MCP clients do.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { answerClientErrors } from '../wire/client-error.js';
import type { Server as NetServer } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { canonicalJson, roundedNumber } from '@faramesh/protocol';
import { ProxySession, type SessionDeps } from './session.js';
import type { McpServerSpec } from './upstream.js';
import { mirrorOnUnix } from '../wire/unix-mirror.js';
import { MAX_HTTP_CONNECTIONS, REQUEST_TIMEOUT_MS } from '../wire/line-server.js';
import { capConnections, overShare, type Admit } from '../wire/http-cap.js';
import { NOT_READY } from '../wire/agent-protocol.js';
import { isLoopbackHost } from '../wire/http-api.js';
import { daemonNow } from '../core/clock.js';

export interface ProxyDeps extends SessionDeps {
  servers(): McpServerSpec[];
  /** The agent a bearer token speaks for, if it is an agent token. */
  agentFor(token: string): string | undefined;
  ready(): boolean;
}

/** How long a draining daemon waits for proxied calls in flight. */
const DRAIN_GRACE_MS = 10_000;

/** Largest request body taken (results, going the other way, are not limited). */
const MAX_BODY = 16 << 20;
/**
 * Request bodies one agent may have on their way at once, in bytes (four of the largest). Without a
 * bound, an agent opening MAX_HTTP_CONNECTIONS requests and holding each just short of its end would
 * keep 8 GiB in the daemon's memory; past it a request is refused with 503 and retry-after.
 */
export const MAX_BODIES_IN_FLIGHT = 4 * MAX_BODY;

/** How many sessions an agent may hold, and how long an unused one lives. */
export interface SessionLimits {
  perAgent: number;
  idleMs: number;
  /** Bytes of request bodies an agent may have on their way at once (default MAX_BODIES_IN_FLIGHT). */
  bodyBytes?: number;
}
const LIMITS: SessionLimits = { perAgent: 32, idleMs: 30 * 60_000 };

/** A session's calls in flight, its open event streams (GET), and when it was last used. */
interface Use {
  calls: number;
  streams: number;
  last: number;
}

type Entry = { session: ProxySession; use: Use } & (
  { kind: 'streamable'; transport: StreamableHTTPServerTransport } | { kind: 'sse'; transport: SSEServerTransport }
);

export class McpProxy {
  private readonly listeners: Server[] = [];
  private readonly mirrors: NetServer[] = [];
  private readonly sessions = new Map<string, Entry>();
  private draining = false;
  private readonly sweeper: NodeJS.Timeout;
  /** Bytes of request bodies being read, by agent (see MAX_BODIES_IN_FLIGHT). */
  private readonly arriving = new Map<string, number>();

  /** Permitted tools/call relayed as HTTP (the hot path), since start. */
  relayedCalls = 0;
  private readonly sessionDeps: SessionDeps;

  constructor(
    private readonly deps: ProxyDeps,
    private readonly limits: SessionLimits = LIMITS,
  ) {
    this.sessionDeps = { ...deps, relayed: () => void this.relayedCalls++ };
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, limits.idleMs)).unref();
  }

  /** How many sessions an agent has open. */
  sessionCount(agent: string): number {
    return this.sessionsOf(agent).length;
  }

  private sessionsOf(agent: string): Entry[] {
    return [...this.sessions.values()].filter((e) => e.session.agent === agent);
  }

  /** A new policy is in force: every open session's client is told its tools may have changed. */
  policyChanged(): void {
    for (const e of this.sessions.values()) e.session.policyChanged();
  }

  /** Close sessions unused for `idleMs`. */
  private sweep(): void {
    const now = daemonNow();
    for (const e of this.sessions.values())
      if (e.use.calls + e.use.streams === 0 && now - e.use.last >= this.limits.idleMs) void e.transport.close();
  }

  /** Room for one more session of `agent`: its least recently used idle one closes if it is at its limit. */
  private async makeRoom(agent: string): Promise<boolean> {
    const mine = this.sessionsOf(agent);
    if (mine.length < this.limits.perAgent) return true;
    const idle = mine.filter((e) => e.use.calls === 0 && !e.session.busy).sort((a, b) => a.use.last - b.use.last)[0];
    if (!idle) return false;
    await idle.transport.close();
    return true;
  }

  /** Count a request against its session while it is open. */
  private using(use: Use, req: IncomingMessage, res: ServerResponse): void {
    const kind = req.method === 'GET' ? 'streams' : 'calls';
    use[kind]++;
    use.last = daemonNow();
    res.once('close', () => {
      use[kind]--;
      use.last = daemonNow();
    });
  }

  /**
   * Listen on 127.0.0.1:`port` (0: any free port); the port bound. `agent` fixes who the traffic is.
   * `mirror`: a Unix socket that serves the same traffic, for sandboxed agents.
   */
  async listen(port: number, agent?: string, mirror?: string): Promise<number> {
    // Not maxConnections, which only drops newcomers: connections sending nothing could hold it (see capConnections).
    const server = createServer();
    const cap = capConnections(server, MAX_HTTP_CONNECTIONS);
    answerClientErrors(server, (_status, _code, message) => ({ jsonrpc: '2.0', id: null, error: { code: -32600, message } }));
    // On the shared port, one agent's open streams and calls may not fill the cap (an agent's own port is its alone).
    const admit: Admit = agent === undefined ? cap.admit : () => true;
    server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.handle(req, res, agent, admit).catch((e: Error) => fail(res, 500, e.message)),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.listeners.push(server);
    if (mirror) this.mirrors.push(await mirrorOnUnix(server, mirror));
    return (server.address() as { port: number }).port;
  }

  /** Take no new request; let forwarded ones be answered (up to `graceMs`); then close every session. */
  async close(graceMs = DRAIN_GRACE_MS): Promise<void> {
    this.draining = true;
    clearInterval(this.sweeper);
    const closed = [...this.listeners, ...this.mirrors].map((s) => new Promise<void>((r) => s.close(() => r())));
    const sessions = [...this.sessions.values()].map((e) => e.session);
    await Promise.race([Promise.all(sessions.map((s) => s.idle())), new Promise((r) => setTimeout(r, graceMs).unref())]);
    await Promise.all(sessions.map((s) => s.close()));
    this.sessions.clear();
    for (const s of this.listeners) s.closeAllConnections();
    await Promise.all(closed);
  }

  private async handle(req: IncomingMessage, res: ServerResponse, fixedAgent: string | undefined, admit: Admit): Promise<void> {
    if (this.draining) {
      res.setHeader('retry-after', '2');
      return fail(res, 503, 'the daemon is stopping (DAEMON_NOT_READY)', NOT_READY);
    }
    const route = /^\/mcp(?:\/([^/?]+)(\/sse|\/messages)?)?\/?(?:\?.*)?$/.exec(req.url ?? '');
    if (!route) return fail(res, 404, 'the MCP proxy serves each upstream at /mcp/<name> (legacy SSE: /mcp/<name>/sse)');
    const servers = this.deps.servers();
    let name: string;
    if (route[1] === undefined) {
      // Bare /mcp (the quickstart's client config): the stack's one upstream, when it has one.
      if (servers.length !== 1)
        return fail(
          res,
          404,
          `the MCP proxy serves each upstream at /mcp/<name>; /mcp alone names the stack's only mcp_server, and it has ${servers.length}`,
        );
      name = servers[0]!.name;
    } else {
      try {
        name = decodeURIComponent(route[1]);
      } catch {
        // A malformed percent-escape is the client's error, not the daemon's.
        return fail(res, 400, 'the path holds a malformed percent-escape');
      }
    }
    // An agent's own port takes no token: only this machine's own clients may use it, never a web page
    // whose name was rebound to 127.0.0.1 (its Host or Origin names another host) — MCP's transport
    // rules ask servers to check Origin for exactly this.
    if (fixedAgent !== undefined && (!isLoopbackHost(req.headers.host) || !loopbackOrigin(req.headers.origin)))
      return fail(
        res,
        403,
        'an agent port serves clients on this machine only: Host and Origin must name loopback (localhost, 127.0.0.1, [::1])',
      );
    const spec = servers.find((s) => s.name === name);
    if (!spec) {
      // A session on a server the last apply removed ends with its next request (its upstream with it).
      const stale = this.sessions.get(String(req.headers['mcp-session-id'] ?? ''));
      if (stale?.session.server.name === name) void stale.session.close().catch(() => {});
      return fail(res, 404, `no mcp_server "${name}" in the applied policy`);
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const agent = fixedAgent ?? (bearer ? this.deps.agentFor(bearer) : undefined);
    if (!agent) {
      res.setHeader('www-authenticate', 'Bearer');
      // A token that was sent but is not an agent's (revoked, mistyped, an operator's) is said as such:
      // telling its client to send a token it did send sends its operator looking in the wrong place.
      return fail(
        res,
        401,
        bearer
          ? 'the bearer token is not a valid agent token (revoked, mistyped, or an operator token): issue one with faramesh token issue --agent <id>'
          : 'this port serves several agents: send an agent token (faramesh token issue --agent <id>) as a bearer token',
      );
    }
    if (!admit(req, agent)) {
      res.setHeader('retry-after', '5');
      return fail(res, 429, overShare(agent));
    }
    if (!this.deps.ready()) {
      res.setHeader('retry-after', '2');
      return fail(res, 503, 'the daemon is not ready (DAEMON_NOT_READY)', NOT_READY);
    }
    const owned = (entry: Entry | undefined) => {
      if (!entry) return (fail(res, 404, 'no such MCP session (it ended, or the daemon restarted): initialize again'), undefined);
      if (entry.session.agent !== agent || entry.session.server.name !== name)
        return (fail(res, 403, 'this MCP session belongs to another agent or server'), undefined);
      // An apply that changed the server (another url, command, headers, …) ends the sessions opened
      // on the old one: their calls, decided under the new policy, would still reach the old server.
      if (!sameServer(entry.session.server, spec)) {
        void entry.session.close().catch(() => {});
        return (fail(res, 404, `the mcp_server "${name}" changed at the last apply: initialize again`), undefined);
      }
      this.using(entry.use, req, res);
      return entry;
    };
    const room = async () => {
      if (await this.makeRoom(agent)) return true;
      res.setHeader('retry-after', '5');
      fail(res, 429, `agent ${agent} has ${this.limits.perAgent} MCP sessions open, each with a call in flight: retry shortly`);
      return false;
    };
    if (route[2] === '/sse') {
      if (req.method !== 'GET') return fail(res, 405, 'open the legacy SSE stream with GET');
      if (!(await room())) return;
      const transport = new SSEServerTransport(`/mcp/${encodeURIComponent(name)}/messages`, res);
      const session = await this.open(agent, spec, transport, res);
      if (!session) return;
      const use = { calls: 0, streams: 0, last: daemonNow() };
      this.using(use, req, res);
      this.sessions.set(transport.sessionId, { kind: 'sse', transport, session, use });
      return transport.start();
    }
    if (route[2] === '/messages') {
      const entry = owned(this.sessions.get(new URL(req.url!, 'http://x').searchParams.get('sessionId') ?? ''));
      if (!entry) return;
      if (entry.kind !== 'sse') return fail(res, 400, 'this session speaks Streamable HTTP: post to /mcp/<name>');
      const parsed = await this.body(req, agent);
      if (refusedBody(res, parsed)) return;
      return entry.transport.handlePostMessage(req, res, parsed);
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const entry = owned(this.sessions.get(sessionId));
      if (!entry) return;
      if (entry.kind !== 'streamable') return fail(res, 400, 'this session speaks legacy SSE: post to its messages endpoint');
      const parsed = req.method === 'POST' ? await this.body(req, agent) : undefined;
      if (refusedBody(res, parsed)) return;
      if (parsed !== undefined && entry.session.claim(parsed, res)) return;
      if (parsed !== undefined && (await entry.session.relay(parsed, req, res))) return;
      return entry.transport.handleRequest(req, res, parsed);
    }
    if (req.method !== 'POST') return fail(res, 400, 'start with an initialize request (POST)');
    const parsed = await this.body(req, agent);
    if (refusedBody(res, parsed)) return;
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if ((first as { method?: unknown } | undefined)?.method !== 'initialize')
      return fail(res, 400, 'no MCP session: start with an initialize request');
    if (!(await room())) return;
    const use = { calls: 0, streams: 0, last: daemonNow() };
    this.using(use, req, res);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void (session && this.sessions.set(id, { kind: 'streamable', transport, session, use })),
    });
    const session = await this.open(agent, spec, transport, res);
    if (!session) return;
    await transport.handleRequest(req, res, parsed);
    // The transport refused the initialize (an Accept header without text/event-stream, a batch
    // around it, …): no session was made, so nothing would ever close its upstream (a child process).
    if (transport.sessionId === undefined) await session.close();
  }

  /**
   * A request's body, parsed; or why it is refused: too large, too slow (a whole body within
   * REQUEST_TIMEOUT_MS, as the HTTP API reads its own), or past the agent's share of bodies in flight.
   */
  private async body(req: IncomingMessage, agent: string): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    let late = false;
    const timer = setTimeout(() => ((late = true), req.destroy()), REQUEST_TIMEOUT_MS);
    const settle = (outcome: unknown) => {
      clearTimeout(timer);
      const left = (this.arriving.get(agent) ?? 0) - size;
      if (left > 0) this.arriving.set(agent, left);
      else this.arriving.delete(agent);
      return outcome;
    };
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        if (size + chunk.length > MAX_BODY) return settle(TOO_LARGE);
        const reading = (this.arriving.get(agent) ?? 0) + chunk.length;
        if (reading > (this.limits.bodyBytes ?? MAX_BODIES_IN_FLIGHT)) return settle(TOO_BUSY);
        size += chunk.length;
        this.arriving.set(agent, reading);
        chunks.push(chunk);
      }
    } catch (e) {
      settle(undefined);
      if (late) return TOO_SLOW;
      throw e;
    }
    settle(undefined);
    const text = Buffer.concat(chunks).toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return NOT_JSON;
    }
    // An integer JSON.parse rounds: the upstream would get another call than the one decided.
    const rounded = roundedNumber(text);
    return rounded ? new RoundedBody(rounded) : value;
  }

  /** A client session and its upstream connection; undefined (the client told why) when the upstream cannot start. */
  private async open(agent: string, spec: McpServerSpec, transport: Transport, res: ServerResponse): Promise<ProxySession | undefined> {
    const session = new ProxySession(agent, spec, transport, this.sessionDeps);
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
      void session.close().catch(() => {});
    };
    try {
      await session.start();
      return session;
    } catch (e) {
      await session.close();
      fail(res, 502, `the MCP server '${spec.name}' could not be started: ${(e as Error).message}`);
      return undefined;
    }
  }
}

/** No Origin (not a browser), or a page served from this machine's loopback. */
function loopbackOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return isLoopbackHost(new URL(origin).host);
  } catch {
    return false; // "null" (a sandboxed frame, a file: page) and anything unparsable
  }
}

const TOO_LARGE = Symbol('too large');
const TOO_BUSY = Symbol('too many bodies in flight');
const TOO_SLOW = Symbol('too slow');
const NOT_JSON = Symbol('not JSON');
class RoundedBody {
  constructor(readonly why: string) {}
}

/** A body that cannot be taken: too large, or not JSON (answered here: the transports would read the spent stream again). */
function refusedBody(res: ServerResponse, parsed: unknown): boolean {
  if (parsed === TOO_LARGE) fail(res, 413, `the request exceeds ${MAX_BODY} bytes`);
  else if (parsed === TOO_SLOW) fail(res, 408, `the request body did not arrive within ${REQUEST_TIMEOUT_MS} ms`);
  else if (parsed === TOO_BUSY) {
    res.setHeader('retry-after', '1');
    fail(res, 503, 'this agent has too many bytes of requests on their way: retry shortly');
  } else if (parsed === NOT_JSON) fail(res, 400, 'the request body is not JSON', undefined, -32700);
  else if (parsed instanceof RoundedBody) fail(res, 400, parsed.why);
  else return false;
  return true;
}

/** A JSON-RPC error; `data`, when the refusal is one of errors.md's, is its structured payload. */
function fail(res: ServerResponse, status: number, message: string, data?: object, rpcCode?: number): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json' });
  const code = rpcCode ?? (status === 401 || status === 403 ? -32001 : -32600);
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message, ...(data ? { data } : {}) } }));
}

/** The same upstream, whatever line of governance.fms declares it. */
function sameServer(a: McpServerSpec, b: McpServerSpec): boolean {
  return a === b || serverKey(a) === serverKey(b);
}

const serverKeys = new WeakMap<McpServerSpec, string>();
function serverKey(spec: McpServerSpec): string {
  let key = serverKeys.get(spec);
  if (key === undefined) serverKeys.set(spec, (key = canonicalJson({ ...spec, ref: '' })));
  return key;
}

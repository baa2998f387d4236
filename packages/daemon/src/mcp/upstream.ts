/**
 * One connection to an upstream MCP server: a stdio child the daemon spawns (and restarts if it
 * dies), or a Streamable HTTP / legacy SSE endpoint. Messages pass through unchanged; the session
 * above decides what may pass. After a restart the client's own `initialize` is replayed, so the
 * new process serves the session it joined.
 */
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { resolve } from 'node:path';
import { resolvedField } from '../stack/settings.js';
import { AMBIENT_CREDENTIALS } from '../credentials/ambient.js';
import type { IRValue, McpServerIR } from '@faramesh/fpl';
import type { HttpTarget } from './passthrough.js';
import { withLineReader } from './stdio-lines.js';
import { AnswerStreams } from './answer-streams.js';

/** An `mcp_server` block of the compiled policy. */
export type McpServerSpec = McpServerIR;

export interface UpstreamEvents {
  message(m: JSONRPCMessage): void;
  /** The upstream went away; `restarting` when a stdio child is being started again. */
  lost(why: string, restarting: boolean): void;
  /** A request will never be answered, though the upstream lives on (its answer's stream ended without it). */
  unanswered(id: RequestId, why: string): void;
}

/** How long closing waits for a remote server to acknowledge the end of its session. */
const TERMINATE_WAIT_MS = 2000;

/** Restarts of a crashing stdio server are spaced out, and stop after this many in a row. */
const MAX_RESTARTS = 5;

export class Upstream {
  private transport?: Transport;
  private initialize?: JSONRPCRequest;
  private closed = false;
  private restarts = 0;
  /** What the transport last reported going wrong (a message too large, a write that failed). */
  private lastError?: Error;
  /** While a restarted child replays `initialize`: its reply is ours, not the client's. */
  private replaying?: string;
  ready: Promise<void> = Promise.resolve();
  private target?: Omit<HttpTarget, 'sessionId'>;
  /** Credentials of calls being sent, by JSON-RPC id (JSON). */
  private readonly perCall = new Map<string, Record<string, string>>();
  /** Requests sent to a Streamable HTTP upstream, until answered. */
  private readonly answers: AnswerStreams;

  constructor(
    readonly spec: McpServerSpec,
    private readonly stackDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly events: UpstreamEvents,
    /** The daemon's variables a stdio server never inherits (default: the ambient credentials). */
    private readonly withheld?: (name: string) => boolean,
  ) {
    this.answers = new AnswerStreams((id, why) => events.unanswered(id, why));
  }

  get live(): boolean {
    return this.transport !== undefined && !this.closed;
  }

  /** A server reached by URL: it goes on running (tasks included) when this connection closes. */
  get remote(): boolean {
    return this.spec.url !== undefined;
  }

  /** A Streamable HTTP upstream, connected and initialized: where a call can be relayed as HTTP. */
  httpTarget(): HttpTarget | undefined {
    const t = this.transport;
    if (!this.target || !(t instanceof StreamableHTTPClientTransport) || this.closed || !this.initialize) return undefined;
    return { ...this.target, ...(t.sessionId ? { sessionId: t.sessionId } : {}) };
  }

  async start(): Promise<void> {
    const transport = this.make();
    transport.onmessage = (m) => this.receive(m);
    transport.onclose = () => this.onClose(transport);
    transport.onerror = (e) => {
      this.lastError = e;
      // A remote server's transports report a dropped connection only as an error, and stay open: the
      // calls in flight would wait for ever. The connection is lost, and the session with it.
      if (!this.remote) return;
      const lose = () => {
        this.onClose(transport);
        void transport.close().catch(() => {});
      };
      // A legacy SSE session is its event stream: that stream gone, the session is.
      if (e instanceof SseError) return lose();
      // A Streamable HTTP event stream cut (the standalone GET one by an idle timeout on the way, a
      // POST's by the server going away): the transport reconnects a stream it can, and the session
      // lives on while the server answers. Only a server that no longer answers has lost it.
      if (e.message.startsWith('Maximum reconnection attempts'))
        this.answers.gaveUp(
          `the MCP server '${this.spec.name}' could not be reached to resume the event stream that was to carry the answer`,
        );
      if (e.message.startsWith('SSE stream disconnected'))
        void this.reachable().then((up) => {
          if (!up && this.transport === transport) lose();
        });
    };
    await transport.start();
    this.transport = transport;
  }

  /** `headers`: a call's own credential, added to the HTTP request that carries it (HTTP upstreams). */
  async send(m: JSONRPCMessage, headers?: Record<string, string>): Promise<void> {
    if ('method' in m && m.method === 'initialize' && 'id' in m) this.initialize = m as JSONRPCRequest;
    await this.ready;
    if (!this.transport) throw new Error(`the MCP server '${this.spec.name}' is not connected`);
    // A value no header may carry (a line break, a control character) would be refused by fetch with
    // an error quoting it, and that error goes back to the client: refused here, without the value.
    for (const [name, value] of Object.entries(headers ?? {}))
      if (/[^\t\x20-\x7e\x80-\xff]/.test(value))
        throw new Error(`the call's credential cannot be sent in the ${name} header: it holds a line break or a control character`);
    const key = headers && 'id' in m ? JSON.stringify(m.id) : undefined;
    if (key && this.perCall.has(key)) throw new Error(`request id ${key} is already being sent`);
    if (key) this.perCall.set(key, headers!);
    const request = 'method' in m && 'id' in m && this.transport instanceof StreamableHTTPClientTransport ? m.id : undefined;
    if (request !== undefined) this.answers.sent(request);
    try {
      await this.transport.send(m);
    } catch (e) {
      if (request !== undefined) this.answers.answered(request);
      throw e;
    } finally {
      if (key) this.perCall.delete(key);
    }
  }

  /** The client cancelled a request: its answer is no longer awaited. */
  forget(id: RequestId): void {
    this.answers.answered(id);
  }

  /**
   * The transports' fetch: a POST carrying a call that has its own credential gets it as a header.
   * The message is found by its JSON-RPC id; only calls with a credential pay for the lookup. Each
   * response is watched until it has answered what it carries (answer-streams.ts).
   */
  private readonly fetchUpstream = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    if (this.perCall.size > 0 && typeof init?.body === 'string') {
      const { id, method } = JSON.parse(init.body) as { id?: unknown; method?: unknown };
      const extra = id === undefined || method !== 'tools/call' ? undefined : this.perCall.get(JSON.stringify(id));
      if (extra) init = { ...init, headers: { ...Object.fromEntries(new Headers(init.headers).entries()), ...extra } };
    }
    return this.answers.watch(init, await fetch(url, init), this.spec.name);
  };

  async close(): Promise<void> {
    this.closed = true;
    // A Streamable HTTP session is ended on the server too (a DELETE), as the MCP spec asks of a
    // client done with it: the server can then drop its state, and cancel what it still runs.
    // Bounded: a server that never answers does not hold the daemon's drain.
    if (this.transport instanceof StreamableHTTPClientTransport && this.transport.sessionId)
      await Promise.race([this.transport.terminateSession().catch(() => {}), new Promise((r) => setTimeout(r, TERMINATE_WAIT_MS).unref())]);
    await this.transport?.close().catch(() => {});
  }

  private receive(m: JSONRPCMessage): void {
    if ('id' in m && !('method' in m) && m.id !== undefined) this.answers.answered(m.id);
    if (this.replaying !== undefined && 'id' in m && String(m.id) === this.replaying && !('method' in m)) {
      this.replaying = undefined;
      void this.transport?.send({ jsonrpc: '2.0', method: 'notifications/initialized' }).catch(() => {});
      return;
    }
    // The server answered one of the client's requests: it runs again, so its crashes are no longer "in a
    // row" (docs/mcp.md), and a later one is restarted, after the shortest wait, as the first was.
    if ('id' in m && !('method' in m)) this.restarts = 0;
    this.events.message(m);
  }

  /** Whether the `url` server answers HTTP at all (any status): a cut event stream alone does not say it is gone. */
  private async reachable(): Promise<boolean> {
    try {
      const res = await fetch(this.spec.url!, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
      await res.body?.cancel().catch(() => {});
      return true;
    } catch {
      return false;
    }
  }

  private onClose(transport: Transport): void {
    if (this.transport !== transport || this.closed) return;
    this.transport = undefined;
    this.answers.clear();
    const stdio = this.spec.command !== undefined;
    const restarting = stdio && this.restarts < MAX_RESTARTS;
    // A server the transport stopped (its message was too large) did not exit of itself: the client hears why.
    const stopped = this.lastError?.message.startsWith('the server wrote') ? this.lastError.message : undefined;
    this.lastError = undefined;
    const what = !stdio ? 'closed the connection' : stopped ? `was stopped: ${stopped}` : 'exited';
    this.events.lost(`the MCP server '${this.spec.name}' ${what}`, restarting);
    if (!restarting) return;
    this.restarts++;
    this.ready = (async () => {
      await new Promise((r) => setTimeout(r, 100 * 2 ** this.restarts));
      if (this.closed) return;
      await this.start();
      if (this.initialize) {
        this.replaying = `faramesh-reinit-${this.restarts}`;
        await this.transport?.send({ ...this.initialize, id: this.replaying });
      }
    })().catch((e: Error) => this.events.lost(`the MCP server '${this.spec.name}' could not be restarted: ${e.message}`, false));
  }

  private make(): Transport {
    const s = this.spec;
    const field = (v: IRValue, where: string) => String(resolvedField(v, `mcp_server "${s.name}" ${where}`, this.env));
    if (s.command !== undefined) {
      const env: Record<string, string> = {};
      // The daemon's own credentials (its Vault token, its cloud keys) stay with the daemon: a server
      // gets one only when its `env` names it.
      const ambient = new Set(AMBIENT_CREDENTIALS);
      const withheld = this.withheld ?? ((k: string) => ambient.has(k));
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !withheld(k)) env[k] = v;
      for (const [k, v] of Object.entries(s.env)) env[k] = field(v, `env.${k}`);
      // Results are read in linear time, up to MAX_MESSAGE_BYTES (stdio-lines.ts).
      return withLineReader(
        new StdioClientTransport({ command: s.command, args: s.args, env, cwd: resolve(this.stackDir, s.cwd ?? '.'), stderr: 'ignore' }),
      );
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.headers)) headers[k] = field(v, `headers.${k}`);
    const url = new URL(s.url!);
    return s.transport === 'sse'
      ? new SSEClientTransport(url, {
          requestInit: { headers },
          fetch: this.fetchUpstream,
          eventSourceInit: {
            fetch: (u, init) => fetch(u, { ...init, headers: { ...headers, ...(init?.headers as Record<string, string>) } }),
          },
        })
      : ((this.target = { url, headers }), new StreamableHTTPClientTransport(url, { requestInit: { headers }, fetch: this.fetchUpstream }));
  }
}

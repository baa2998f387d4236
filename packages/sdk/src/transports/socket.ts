/**
 * SocketTransport: the daemon's agent socket. By default one connection is kept open and shared by
 * every call (JSON-RPC ids match answers to requests), so a call costs one write and one read, not
 * a connect and a close. A daemon that does not offer that gets one request per connection, as
 * before. The idle connection does not keep the process alive.
 */
import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import {
  checkResult,
  NoTransportError,
  spawnCounts,
  TransportError,
  type ApprovalStatus,
  type GovernRequest,
  type GovernResult,
  type SpawnEnded,
  type Transport,
} from '../wire.js';

/**
 * JSON-RPC errors that refuse the request itself (invalid params, such as another agent's id on a
 * sandbox's socket; an unknown method; not JSON): the same request is refused again. Others (-32600:
 * the daemon's connections are full, the request was slow) may pass on a retry.
 */
const PERMANENT = new Set<unknown>([-32700, -32601, -32602]);

interface RpcReply {
  id?: unknown;
  result?: unknown;
  error?: { message?: string; code?: unknown };
}
interface Pending {
  resolve(reply: RpcReply): void;
  reject(e: TransportError): void;
  timer: ReturnType<typeof setTimeout>;
}

const UNREACHABLE = ['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES'];
/** The daemon's limit on one request line (its MAX_REQUEST_BYTES, docs/daemon.md: 1 MiB). */
const MAX_REQUEST_BYTES = 1 << 20;
const METHOD_NOT_FOUND = -32601;

/**
 * The daemon's own default agent socket (a stack without `runtime { socket }`) under the home `env`
 * names, when it is there: what an agent started without `.faramesh/bin/agent` reaches, as the
 * Python SDK does. Absent, there is no transport, which failOpen never opens.
 */
export function defaultSocketPath(env: Record<string, string | undefined>): string | undefined {
  if (!env.HOME) return undefined;
  const path = join(env.HOME, '.faramesh', 'runtime', 'faramesh.sock');
  return existsSync(path) ? path : undefined;
}

export interface SocketTransportOptions {
  /** Share one kept-open connection (default true); false opens one per request. */
  keepOpen?: boolean;
  /**
   * The socket was found, not configured (defaultSocketPath): a daemon not there is no transport,
   * which `failOpen` never opens, as when nothing was found (a stale socket file is no deployment).
   */
  found?: boolean;
}

export class SocketTransport implements Transport {
  private id = 0;
  private shared?: Promise<Connection | undefined>;
  private perRequest: boolean;

  constructor(
    readonly path: string,
    options: SocketTransportOptions = {},
  ) {
    this.perRequest = options.keepOpen === false;
    this.found = options.found === true;
  }

  private readonly found: boolean;

  async govern(request: GovernRequest, timeoutMs: number): Promise<GovernResult> {
    const reply = await this.call('govern', request, timeoutMs);
    if (reply.error)
      throw new TransportError(
        `the daemon refused the request: ${reply.error.message ?? 'error'}`,
        false,
        false,
        PERMANENT.has(reply.error.code),
      );
    return checkResult(reply.result);
  }

  async poll(approvalId: string, agentId: string, timeoutMs: number): Promise<ApprovalStatus> {
    const reply = await this.call('poll_defer', { agent_id: agentId, defer_token: approvalId }, timeoutMs);
    return (reply.result as { status?: ApprovalStatus } | undefined)?.status ?? 'unknown';
  }

  async spawnEnded(agentId: string, count: number, timeoutMs: number): Promise<SpawnEnded> {
    const reply = await this.call('spawn_ended', { agent_id: agentId, count }, timeoutMs);
    if (reply.error) throw new TransportError(`the daemon refused spawn_ended: ${reply.error.message ?? 'error'}`, false);
    return spawnCounts(reply.result);
  }

  /** Close the shared connection (it is reopened on the next call). */
  close(): void {
    void this.shared?.then((c) => c?.socket.destroy());
    this.shared = undefined;
  }

  private async call(method: string, params: object, timeoutMs: number): Promise<RpcReply> {
    const sent = { lost: false };
    return this.send(method, params, timeoutMs, sent).catch((e: unknown) => {
      // The request went out on a connection that then closed unanswered: the daemon may have seen it.
      if (sent.lost && e instanceof TransportError && !e.delivered) throw e.asDelivered();
      if (this.found && e instanceof TransportError && e.unreachable && !e.delivered)
        throw new NoTransportError(`${e.message} (the default socket, used as nothing else is configured)`);
      throw e;
    });
  }

  private async send(method: string, params: object, timeoutMs: number, sent: { lost: boolean }): Promise<RpcReply> {
    const message = { jsonrpc: '2.0', id: ++this.id, method, params };
    // Refused here, never sent: the daemon refuses a longer line with the code of a passing refusal
    // (so the agent would be told to retry it, for ever), and ends the kept-open connection it came
    // on, failing the calls in flight beside it (and again on the connection they are retried on).
    const bytes = Buffer.byteLength(JSON.stringify(message));
    if (bytes > MAX_REQUEST_BYTES)
      throw new TransportError(`the request is ${bytes} bytes, more than the daemon takes (${MAX_REQUEST_BYTES})`, false, false, true);
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; !this.perRequest && attempt < 2; attempt++) {
      this.shared ??= this.open(timeoutMs);
      const shared = this.shared;
      const conn = await shared.catch((e: unknown) => {
        if (this.shared === shared) this.shared = undefined;
        throw e;
      });
      if (!conn) {
        // Not offered this time (e.g. a daemon still starting): this request on its own connection.
        if (this.shared === shared) this.shared = undefined;
        break;
      }
      // Closed since (the daemon restarted): open another once.
      if (conn.closed) {
        if (this.shared === shared) this.shared = undefined;
        continue;
      }
      try {
        return await conn.send(message, Math.max(1, deadline - Date.now()));
      } catch (e) {
        // The connection went away unanswered (the daemon restarted while it sat idle): once more
        // on a fresh one. At worst the daemon decides the call twice; the tool still runs once.
        if (!(e instanceof ConnectionLost) || attempt > 0) throw e;
        sent.lost = true;
        if (this.shared === shared) this.shared = undefined;
      }
    }
    return exchange(this.path, message, Math.max(1, deadline - Date.now())) as Promise<RpcReply>;
  }

  /** A kept-open connection, or undefined when the daemon did not offer one. */
  private async open(timeoutMs: number): Promise<Connection | undefined> {
    const conn = new Connection(this.path);
    const ack = await conn.send({ jsonrpc: '2.0', id: 0, method: 'keep_open' }, timeoutMs).catch((e: unknown) => {
      conn.socket.destroy();
      throw e;
    });
    if ((ack.result as { keep_open?: unknown } | undefined)?.keep_open === true) return conn;
    conn.socket.destroy();
    // A daemon that does not know the method never will: one request per connection from now on.
    if (ack.error?.code === METHOD_NOT_FOUND) this.perRequest = true;
    return undefined;
  }
}

class ConnectionLost extends TransportError {}

/** A reply the transport can read fields of: a JSON object. */
const isMessage = (v: unknown): v is RpcReply => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One socket, many requests in flight; answers are lines, matched by id. */
class Connection {
  readonly socket: Socket;
  closed = false;
  private connected = false;
  private buffer = '';
  private readonly pending = new Map<unknown, Pending>();
  /** A refusal the daemon sent without an id while several requests were waiting. */
  private refusal?: string;

  constructor(readonly path: string) {
    this.socket = createConnection(path);
    this.socket.setEncoding('utf8');
    this.socket.unref();
    this.socket.on('connect', () => (this.connected = true));
    this.socket.on('data', (d: string) => this.read(d));
    this.socket.on('error', (e: NodeJS.ErrnoException) =>
      this.fail(
        this.connected
          ? new ConnectionLost(`${path}: ${e.message}`, false)
          : new TransportError(`${path}: ${e.message}`, UNREACHABLE.includes(e.code ?? '')),
      ),
    );
    this.socket.on('close', () => this.fail(new ConnectionLost(`${path}: the daemon closed the connection before answering`, false)));
  }

  send(message: { id: number; [k: string]: unknown }, timeoutMs: number): Promise<RpcReply> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new ConnectionLost(`${this.path}: the connection closed`, false));
      const timer = setTimeout(() => {
        this.pending.delete(message.id);
        if (this.pending.size === 0) this.socket.unref();
        reject(new TransportError(`${this.path}: no answer within ${timeoutMs} ms`, false));
      }, timeoutMs);
      this.pending.set(message.id, { resolve, reject, timer });
      this.socket.ref();
      this.socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  private read(data: string): void {
    this.buffer += data;
    for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let reply: RpcReply;
      try {
        reply = JSON.parse(line) as RpcReply;
      } catch {
        reply = undefined as unknown as RpcReply;
      }
      // Not a JSON-RPC message (not JSON, or `null`, a number…): the stream cannot be trusted any more.
      if (!isMessage(reply)) {
        this.fail(new TransportError(`${this.path}: the reply is not a JSON-RPC message`, false));
        this.socket.destroy();
        return;
      }
      let key: unknown = reply.id;
      if (!this.pending.has(key)) {
        // A refusal without an id: the daemon could not read one of our lines (too large, say), reads
        // no more, answers the lines before it and closes. Which request it was is known only when one
        // is waiting; otherwise the requests still unanswered at the close hear it then.
        if (reply.id !== null || !reply.error) continue;
        if (this.pending.size !== 1) {
          this.refusal = reply.error.message ?? 'error';
          continue;
        }
        key = this.pending.keys().next().value;
      }
      const waiter = this.pending.get(key)!;
      this.pending.delete(key);
      clearTimeout(waiter.timer);
      waiter.resolve(reply);
    }
    if (this.pending.size === 0) this.socket.unref();
  }

  private fail(e: TransportError): void {
    this.closed = true;
    if (this.refusal !== undefined && e instanceof ConnectionLost)
      e = new ConnectionLost(`${this.path}: the daemon refused a request on this connection (${this.refusal}) and closed it`, false);
    for (const w of this.pending.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.pending.clear();
  }
}

/** One request on its own connection: the daemon answers one line and closes. */
function exchange(path: string, message: object, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let data = '';
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError(`${path}: no answer within ${timeoutMs} ms`, false));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(message)}\n`);
    });
    socket.on('data', (d: string) => (data += d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new TransportError(`${path}: ${e.message}`, !connected && UNREACHABLE.includes(e.code ?? '')));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      let reply: unknown;
      try {
        reply = JSON.parse(data);
      } catch {
        return reject(new TransportError(`${path}: the reply is not JSON`, false));
      }
      if (isMessage(reply)) resolve(reply);
      else reject(new TransportError(`${path}: the reply is not a JSON-RPC message`, false));
    });
  });
}

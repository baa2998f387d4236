/**
 * One request per connection over a Unix socket: the client writes one JSON line, the server
 * answers with one line in a single write and closes. That is what the shipped SDKs expect (one
 * of them reads a single chunk; another waits for the close). Oversized requests and clients that
 * stall get an error reply and a closed connection, never a crash.
 *
 * A client may instead ask to keep the connection open (`keepOpen` recognises the request): then
 * it sends any number of lines, answered as each decision is made, matched by their ids — no
 * connect and close per call. Draining stops reading new lines and closes once they are answered.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** Largest request accepted (a request is a tool call's arguments: this is generous). */
export const MAX_REQUEST_BYTES = 1 << 20;
/** A client must finish sending its request within this of connecting (a deadline, not an idle timer). */
export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * Connections open at once. Past this a new one takes the place of the oldest still sending its
 * request (an honest client sends it as it connects, so that one is stalling), else of the kept-open
 * connection idle longest (its client reconnects); only when neither exists is it refused and closed.
 */
export const MAX_CONNECTIONS = 1024;
/** The share of them one origin (a sandboxed agent's mirror) may hold: one agent cannot lock out the rest. */
export const ORIGIN_SHARE = 4;
/**
 * Connections one HTTP listener (a proxy port, the HTTP API) keeps open at once; past this new ones
 * are dropped. A flood of idle connections then fills that listener, never the daemon's file
 * descriptors, which its log and state files need.
 */
export const MAX_HTTP_CONNECTIONS = 512;
/** Requests a kept-open connection may have in flight; past this it is not read until answers go out. */
export const MAX_PIPELINED = 256;
/** A kept-open connection with nothing sent or answered for this long is closed (clients reconnect). */
export const KEEP_OPEN_IDLE_MS = 5 * 60_000;
/** A connection still sending its request after this is stalling (an honest client sends at once): see `evict`. */
const STALLING_MS = 1000;
/** How long a refused client may go on sending before its connection is cut. */
const LINGER_MS = 2000;

export interface LineServerOptions {
  /**
   * Answer one request (the line, without its newline). Must not throw; errors are replies.
   * `origin`: what the connection was adopted as (see `adopter`), if it was.
   */
  handle(line: string, origin?: string): Promise<string>;
  /** The reply when the request breaks a limit (too large, too slow, not one line). */
  refuse(reason: string): string;
  /** The acknowledgement, when this first line asks to keep the connection open for more. */
  keepOpen?(line: string): string | undefined;
  maxBytes?: number;
  timeoutMs?: number;
  maxConnections?: number;
}

export class LineServer {
  readonly server: Server;
  private inFlight = 0;
  private idle?: () => void;
  /** Open connections, and whether their request is still being read. */
  private readonly sockets = new Map<Socket, 'reading' | 'answering'>();
  /** Connections reading their request: since when, and how one is refused (see `evict`). */
  private readonly arriving = new WeakMap<Socket, { since: number; refuse: (reason: string, linger: boolean) => void }>();
  /** Open connections by origin (mirror), for its share. */
  private readonly byOrigin = new Map<string, number>();
  /**
   * Kept-open connections, each with what ends it once its answers are out and whether it has none
   * in flight; least recently active first (each line read moves its connection to the end).
   */
  private readonly streams = new Map<Socket, { end: () => void; idle: () => boolean }>();
  private closing = false;
  /** Refused connections (past the cap) still being read so their client hears why. */
  private lingering = 0;
  /** The path this server listens on, once it does: only this server's own socket is ever removed. */
  bound?: string;
  private mode = 0o600;
  /** Listeners opened again at `bound` after its socket file was removed (see `restore`). */
  private readonly again: Server[] = [];
  private restoring = false;

  constructor(private readonly options: LineServerOptions) {
    // Half-open: a client may end its side to mark the end of its request and still read the reply.
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.serve(socket));
  }

  /** Listen on `path` (removing a stale socket file no one answers on) with the given mode. */
  async listen(path: string, mode: number): Promise<void> {
    await this.prepare(path);
    await this.bind(path, mode);
  }

  /** Make `path` free to listen on: its directory made, a stale socket no one answers on removed. */
  async prepare(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    if (existsSync(path)) {
      if (await answers(path))
        throw new Error(
          `${path} is in use by another running daemon: stop that stack (faramesh apply --stop in its directory), or give this one its own runtime { socket }`,
        );
      unlinkSync(path);
    }
  }

  /**
   * Listen on a prepared `path`. The socket is bound and given its mode before this returns (Node
   * binds a Unix socket synchronously), so the caller can open it in the same step as it changes
   * state; the promise settles when listening is confirmed or has failed.
   */
  bind(path: string, mode: number): Promise<void> {
    this.mode = mode;
    return bindUnix(this.server, path, mode).then(() => void (this.bound = path));
  }

  /**
   * Listen at `bound` again if its socket file is gone (removed by hand, or by a cleaner of old
   * files): clients would find nothing there while status says READY. A new listener serves the
   * path; the old one keeps the connections it has. True when it listened again.
   */
  async restore(): Promise<boolean> {
    const path = this.bound;
    if (path === undefined || this.closing || this.restoring || existsSync(path)) return false;
    this.restoring = true;
    try {
      const server = createServer({ allowHalfOpen: true }, (socket) => this.serve(socket));
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      await bindUnix(server, path, this.mode);
      // A close that began meanwhile did not see this listener: it closes here.
      if (this.closing) {
        server.close();
        return false;
      }
      this.again.push(server);
      return true;
    } finally {
      this.restoring = false;
    }
  }

  /** Connections accepted whose request has not been read yet: decisions on their way. (Counted when asked: the log asks once per small batch.) */
  get reading(): number {
    let n = 0;
    for (const phase of this.sockets.values()) if (phase === 'reading') n++;
    return n;
  }

  /** Stop accepting; resolve once every request in progress has been answered. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = Promise.all([this.server, ...this.again].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const { end } of this.streams.values()) end();
    // Connections that have not sent a whole request yet are dropped; answered ones are closing.
    for (const [s, phase] of this.sockets) if (phase === 'reading') s.destroy();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await closed;
  }

  /**
   * Something that hands this server connections accepted elsewhere (a mirror socket), each served
   * as if it had arrived here, with `origin` passed to `handle` for every request on it.
   */
  adopter(origin: string): { emit(event: 'connection', socket: Socket): boolean } {
    return { emit: (_event, socket) => (this.serve(socket, origin), true) };
  }

  private serve(socket: Socket, origin?: string): void {
    const { maxBytes = MAX_REQUEST_BYTES, timeoutMs = REQUEST_TIMEOUT_MS, maxConnections = MAX_CONNECTIONS } = this.options;
    socket.on('error', () => socket.destroy());
    // Each connection may buffer a request: past the cap a client hears why, and what it sends is dropped.
    const share = Math.max(1, Math.floor(maxConnections / ORIGIN_SHARE));
    const mine = origin === undefined ? 0 : (this.byOrigin.get(origin) ?? 0);
    if (mine >= share || (this.sockets.size >= maxConnections && !this.evict())) {
      const why = mine >= share ? `agent ${origin} has ${share} connections open` : `the daemon has ${maxConnections} connections open`;
      const line = `${this.options.refuse(`${why}: retry shortly`)}\n`;
      // A client writes its request as soon as it connects: closed unread, the socket would give it
      // EPIPE (or a reset), never the refusal. What it sends is read and dropped for a moment, as for
      // any refusal; past maxConnections of these at once, the rest are closed at once.
      if (this.lingering >= maxConnections) return void socket.end(line, () => socket.destroy());
      this.lingering++;
      const linger = setTimeout(() => socket.destroy(), LINGER_MS);
      socket.once('close', () => (clearTimeout(linger), this.lingering--));
      socket.on('data', () => {});
      socket.end(line);
      return;
    }
    this.sockets.set(socket, 'reading');
    if (origin !== undefined) this.byOrigin.set(origin, mine + 1);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (origin === undefined) return;
      const left = (this.byOrigin.get(origin) ?? 1) - 1;
      if (left > 0) this.byOrigin.set(origin, left);
      else this.byOrigin.delete(origin);
    });
    let chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (reply: string) => {
      if (socket.destroyed) return;
      // Closed once the reply is flushed, not when the client gets round to closing its side:
      // a client that never does must not hold the connection (or a drain) open.
      socket.end(`${reply}\n`, () => socket.destroy());
    };
    const refuse = (reason: string, lingering = true) => {
      done = true;
      this.sockets.set(socket, 'answering');
      clearTimeout(deadline);
      if (socket.destroyed) return;
      // Evicted (see `evict`): its client sends nothing, and its descriptor is wanted back now.
      if (!lingering) return void socket.end(`${this.options.refuse(reason)}\n`, () => socket.destroy());
      // A client still sending (an oversized request) would get a reset, not the refusal, if the
      // socket closed on its unread bytes: they are read and dropped until it stops, for a moment.
      const linger = setTimeout(() => socket.destroy(), LINGER_MS);
      socket.once('close', () => clearTimeout(linger));
      socket.end(`${this.options.refuse(reason)}\n`);
    };
    const answer = (line: string, rest?: Buffer) => {
      done = true;
      const ack = this.options.keepOpen?.(line);
      clearTimeout(deadline);
      if (ack !== undefined) return this.stream(socket, ack, rest, origin);
      this.sockets.set(socket, 'answering');
      this.inFlight++;
      this.options
        .handle(line, origin)
        .catch(() => this.options.refuse('internal error'))
        .then(finish)
        .finally(() => {
          if (--this.inFlight === 0) this.idle?.();
        });
    };
    this.arriving.set(socket, { since: performance.now(), refuse });
    // From the connection, not from the last byte: a client trickling its request cannot hold it open.
    const deadline = setTimeout(() => done || refuse(`the request did not arrive within ${timeoutMs} ms`), timeoutMs);
    socket.once('close', () => clearTimeout(deadline));
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      const nl = chunk.indexOf(0x0a);
      size += nl === -1 ? chunk.length : nl;
      if (size > maxBytes) return refuse(`the request exceeds ${maxBytes} bytes`);
      if (nl === -1) return void chunks.push(chunk);
      chunks.push(chunk.subarray(0, nl));
      const line = Buffer.concat(chunks).toString('utf8');
      chunks = [];
      answer(line, chunk.subarray(nl + 1));
    });
    socket.on('end', () => {
      // A client that half-closes without a newline sent its whole request.
      if (done) return;
      const line = Buffer.concat(chunks).toString('utf8');
      if (line.trim() === '') return void socket.destroy();
      answer(line);
    });
  }

  /**
   * Make room at the cap: close the oldest connection that has been sending its request for longer
   * than an honest client takes, else the kept-open connection idle longest, else the oldest one
   * still sending. Without this, one client holding the cap with connections that send nothing
   * (reconnecting as each is cut) would lock every agent out. False when all are busy.
   */
  private evict(): boolean {
    const evict = (s: Socket) => {
      // Refused as a slow request is (its client hears why), and no longer counted from now.
      this.arriving.get(s)?.refuse('too many connections are open: this one had not sent its request yet', false);
      this.sockets.delete(s);
      return true;
    };
    // Maps iterate in insertion order: the first connection still reading is the oldest one.
    let young: Socket | undefined;
    for (const [s, phase] of this.sockets)
      if (phase === 'reading') {
        if (performance.now() - (this.arriving.get(s)?.since ?? 0) >= STALLING_MS) return evict(s);
        young = s;
        break;
      }
    for (const [s, { idle }] of this.streams)
      if (idle()) {
        this.sockets.delete(s);
        this.streams.delete(s);
        s.destroy();
        return true;
      }
    return young !== undefined && evict(young);
  }

  /** A kept-open connection: lines in, answers out as they are ready, until either side ends it. */
  private stream(socket: Socket, ack: string, rest?: Buffer, origin?: string): void {
    const { maxBytes = MAX_REQUEST_BYTES, timeoutMs = REQUEST_TIMEOUT_MS } = this.options;
    socket.removeAllListeners('data').removeAllListeners('end');
    this.sockets.set(socket, 'answering');
    let pending = 0;
    let ended = false;
    let chunks: Buffer[] = [];
    let size = 0;
    const endIfDone = () => {
      if (!(ended || this.closing) || pending !== 0 || socket.destroyed || socket.writableEnded) return;
      // Closed while the client is still sending (a drain, a refused line), the socket would give it
      // EPIPE or a reset on its next write, and the answers it has not read yet with it: what it goes
      // on sending is read and dropped (onData reads no more lines) until it closes, for a moment.
      socket.resume();
      socket.end(() => setTimeout(() => socket.destroy(), LINGER_MS).unref());
      // A client that never reads would hold the flush, and the connection, for ever.
      setTimeout(() => socket.destroy(), timeoutMs).unref();
    };
    // A client that sends faster than it reads is not read further until its answers go out: what
    // is left of the chunk being read waits (`held`) rather than being decided. A client that does
    // not read its answers within the deadline is cut off, so unread answers cannot pile up.
    let held: Buffer | undefined;
    let stalled: NodeJS.Timeout | undefined;
    const flow = (): void => {
      if (pending >= MAX_PIPELINED || socket.writableNeedDrain) {
        socket.pause();
        if (socket.writableNeedDrain) stalled ??= setTimeout(() => socket.destroy(), timeoutMs);
        return;
      }
      clearTimeout(stalled);
      stalled = undefined;
      socket.resume();
      if (held) {
        const rest = held;
        held = undefined;
        onData(rest);
      }
    };
    socket.once('close', () => clearTimeout(stalled));
    socket.on('drain', flow);
    const entry = { end: endIfDone, idle: () => pending === 0 };
    this.streams.set(socket, entry);
    socket.once('close', () => this.streams.delete(socket));
    const onLine = (line: string) => {
      if (line.trim() === '') return;
      pending++;
      // Most recently active last: the one idle longest is the first a newcomer at the cap replaces.
      if (this.streams.delete(socket)) this.streams.set(socket, entry);
      flow();
      this.inFlight++;
      this.options
        .handle(line, origin)
        .catch(() => this.options.refuse('internal error'))
        .then((reply) => void (socket.destroyed || socket.write(`${reply}\n`)))
        .finally(() => {
          pending--;
          flow();
          if (--this.inFlight === 0) this.idle?.();
          endIfDone();
        });
    };
    // As on a one-shot connection, each line must arrive whole within the deadline from its first
    // byte: a client trickling lines cannot hold their bytes in memory.
    let lineTimer: NodeJS.Timeout | undefined;
    const refuseAndEnd = (reason: string) => {
      ended = true;
      chunks = [];
      clearTimeout(lineTimer);
      socket.write(`${this.options.refuse(reason)}\n`);
      endIfDone();
    };
    socket.once('close', () => clearTimeout(lineTimer));
    socket.setTimeout(KEEP_OPEN_IDLE_MS, () => {
      if (pending === 0) {
        ended = true;
        endIfDone();
      }
    });
    const onData = (chunk: Buffer) => {
      for (let start = 0; start < chunk.length && !ended && !this.closing;) {
        const nl = chunk.indexOf(0x0a, start);
        size += (nl === -1 ? chunk.length : nl) - start;
        // The stream cannot be resynchronised after a line too long: refuse it and end.
        if (size > maxBytes) return refuseAndEnd(`the request exceeds ${maxBytes} bytes`);
        if (nl === -1) {
          // While the daemon itself is not reading (flow() paused it), the rest cannot arrive: the
          // deadline starts again once it reads.
          const expire = () =>
            socket.isPaused()
              ? (lineTimer = setTimeout(expire, timeoutMs))
              : refuseAndEnd(`the request did not arrive within ${timeoutMs} ms`);
          lineTimer ??= setTimeout(expire, timeoutMs);
          return void chunks.push(chunk.subarray(start));
        }
        clearTimeout(lineTimer);
        lineTimer = undefined;
        chunks.push(chunk.subarray(start, nl));
        const line = Buffer.concat(chunks).toString('utf8');
        chunks = [];
        size = 0;
        start = nl + 1;
        onLine(line);
        if (socket.isPaused() && start < chunk.length) {
          held = chunk.subarray(start);
          return;
        }
      }
    };
    socket.write(`${ack}\n`);
    socket.on('data', onData);
    socket.on('end', () => {
      // A last line without its newline, then the client's end: that line was sent whole, as on a
      // one-shot connection. Dropped, its client would read the close and never hear of it.
      if (!ended && !this.closing && chunks.length > 0) {
        clearTimeout(lineTimer);
        const line = Buffer.concat(chunks).toString('utf8');
        chunks = [];
        onLine(line);
      }
      ended = true;
      endIfDone();
    });
    if (rest?.length) onData(rest);
  }
}

/** `server.listen(path)`, then its mode, both before returning; the promise is the outcome. */
export function bindUnix(server: Server, path: string, mode: number): Promise<void> {
  const listening = listenMasked(server, path, mode);
  // A failed bind leaves no file: its error arrives on the promise.
  if (existsSync(path)) chmodSync(path, mode);
  return listening;
}

/**
 * `server.listen(path)` with the socket file made no wider than `mode` as it is bound (Node binds a
 * path before listen returns). Made under the daemon's umask and narrowed after, an operator socket
 * was open to others (umask 002 or 000) for a moment, and the kernel takes connections from then on.
 */
export function listenMasked(server: Server, path: string, mode: number): Promise<void> {
  const umask = process.umask(~mode & 0o777);
  try {
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
}

/** Does something accept connections on this socket path? */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

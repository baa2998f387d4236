/**
 * One request per connection over a Unix socket: the client writes one JSON line, the server
 * answers with one line in a single write and closes. That is what the shipped SDKs expect (one
 * of them reads a single chunk; another waits for the close). Oversized requests and clients that
 * stall get an error reply and a closed connection, never a crash.
 */
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** Largest request accepted (a request is a tool call's arguments: this is generous). */
export const MAX_REQUEST_BYTES = 1 << 20;
/** A client must finish sending its request within this. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How long a refused client may go on sending before its connection is cut. */
const LINGER_MS = 2000;

export interface LineServerOptions {
  /** Answer one request (the line, without its newline). Must not throw; errors are replies. */
  handle(line: string): Promise<string>;
  /** The reply when the request breaks a limit (too large, too slow, not one line). */
  refuse(reason: string): string;
  maxBytes?: number;
  timeoutMs?: number;
}

export class LineServer {
  readonly server: Server;
  private inFlight = 0;
  private idle?: () => void;
  /** Open connections, and whether their request is still being read. */
  private readonly sockets = new Map<Socket, 'reading' | 'answering'>();

  constructor(private readonly options: LineServerOptions) {
    // Half-open: a client may end its side to mark the end of its request and still read the reply.
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.serve(socket));
  }

  /** Listen on `path` (removing a stale socket file no one answers on) with the given mode. */
  async listen(path: string, mode: number): Promise<void> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    if (existsSync(path)) {
      if (await answers(path)) throw new Error(`${path} is in use by a running daemon (stop it with faramesh apply --stop)`);
      unlinkSync(path);
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, mode);
  }

  /** Stop accepting; resolve once every request in progress has been answered. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Connections that have not sent a whole request yet are dropped; answered ones are closing.
    for (const [s, phase] of this.sockets) if (phase === 'reading') s.destroy();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await closed;
  }

  private serve(socket: Socket): void {
    const { maxBytes = MAX_REQUEST_BYTES, timeoutMs = REQUEST_TIMEOUT_MS } = this.options;
    this.sockets.set(socket, 'reading');
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (reply: string) => {
      if (socket.destroyed) return;
      // Closed once the reply is flushed, not when the client gets round to closing its side:
      // a client that never does must not hold the connection (or a drain) open.
      socket.end(`${reply}\n`, () => socket.destroy());
    };
    const refuse = (reason: string) => {
      done = true;
      this.sockets.set(socket, 'answering');
      socket.setTimeout(0);
      if (socket.destroyed) return;
      // A client still sending (an oversized request) would get a reset, not the refusal, if the
      // socket closed on its unread bytes: they are read and dropped until it stops, for a moment.
      const linger = setTimeout(() => socket.destroy(), LINGER_MS);
      socket.once('close', () => clearTimeout(linger));
      socket.end(`${this.options.refuse(reason)}\n`);
    };
    const answer = (line: string) => {
      done = true;
      socket.setTimeout(0);
      this.sockets.set(socket, 'answering');
      this.inFlight++;
      this.options
        .handle(line)
        .catch(() => this.options.refuse('internal error'))
        .then(finish)
        .finally(() => {
          if (--this.inFlight === 0) this.idle?.();
        });
    };
    socket.setTimeout(timeoutMs, () => {
      if (!done) refuse(`the request did not arrive within ${timeoutMs} ms`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      const nl = chunk.indexOf(0x0a);
      size += nl === -1 ? chunk.length : nl;
      if (size > maxBytes) return refuse(`the request exceeds ${maxBytes} bytes`);
      if (nl === -1) return void chunks.push(chunk);
      chunks.push(chunk.subarray(0, nl));
      const line = Buffer.concat(chunks).toString('utf8');
      chunks = [];
      answer(line);
    });
    socket.on('end', () => {
      // A client that half-closes without a newline sent its whole request.
      if (done) return;
      const line = Buffer.concat(chunks).toString('utf8');
      if (line.trim() === '') return void socket.destroy();
      answer(line);
    });
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

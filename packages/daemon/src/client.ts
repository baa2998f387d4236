/** Talking to a daemon from the CLI: one request per connection, one reply line. */
import { createConnection } from 'node:net';
import type { OperatorReply } from './wire/operator-protocol.js';

export class DaemonUnreachableError extends Error {
  override name = 'DaemonUnreachableError';
  constructor(
    message: string,
    /** No daemon listens at all (no socket, or nobody behind it), rather than one that went away mid-call. */
    readonly absent = false,
  ) {
    super(message);
  }
}

/** Send one line and read the one-line reply; `signal` abandons it (the promise rejects). */
export function requestLine(socketPath: string, line: string, timeoutMs = 10_000, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply from ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    const abandoned = () => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error('abandoned'));
    };
    // Removed once the call is over: a tail makes one call after another with the same signal.
    signal?.addEventListener('abort', abandoned);
    socket.once('close', () => signal?.removeEventListener('abort', abandoned));
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${line}\n`));
    socket.on('data', (d: string) => (data += d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED')
        reject(new DaemonUnreachableError(`no daemon is listening on ${socketPath}`, true));
      // A daemon that exits while answering (it was stopping) is gone, not broken.
      else if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reject(new DaemonUnreachableError(`the daemon went away (${e.code})`));
      else reject(e);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      const reply = data.trimEnd();
      if (reply === '') reject(new DaemonUnreachableError('the daemon closed the connection without replying (it is stopping)'));
      else resolve(reply);
    });
  });
}

/** Call the operator channel; throws on transport errors and on `ok: false` replies. */
export async function operatorCall<T = unknown>(
  socketPath: string,
  method: string,
  params?: object,
  timeoutMs?: number,
  signal?: AbortSignal,
): Promise<T> {
  const reply = JSON.parse(
    await requestLine(socketPath, JSON.stringify({ method, ...(params ? { params } : {}) }), timeoutMs, signal),
  ) as OperatorReply;
  if (!reply.ok) throw new OperatorError(reply.error.code, reply.error.message);
  return reply.result as T;
}

export class OperatorError extends Error {
  override name = 'OperatorError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

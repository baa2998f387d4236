/**
 * A request Node's parser refuses before any route sees it (a malformed chunk or header, headers too
 * large, headers not in within the server's headersTimeout). Node's own answer is a bare status line;
 * ours carries the listener's JSON error, so the client can tell why. Then the connection closes.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** A listener's error body: the HTTP API's `{"error": {code, message}}`, or JSON-RPC's for MCP. */
export type ErrorShape = (status: number, code: string, message: string) => object;

export const apiError: ErrorShape = (_status, code, message) => ({ error: { code, message } });

/** Answer the parser's refusals on `server` with bodies of `shape`. */
export function answerClientErrors(server: Server, shape: ErrorShape = apiError): void {
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    const busy = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    // Only the parser's own refusals are answered: a TLS failure (a handshake that never finished) has
    // no channel to answer on, and Node leaves closing it to this listener.
    const parser = err.code?.startsWith('HPE_') === true || err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (!parser || !socket.writable || busy) return void socket.destroy();
    const [status, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'the request headers are too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout', `the request headers did not arrive within ${server.headersTimeout} ms`]
          : [400, 'bad_request', `the request is not valid HTTP/1.1 (${err.code ?? 'unparsable'})`];
    const body = JSON.stringify(shape(status, code, message));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
      // Closed once written, whether or not the client closes its side.
      () => socket.destroy(),
    );
  });
}

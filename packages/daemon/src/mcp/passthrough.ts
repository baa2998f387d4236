/**
 * The hot path of the MCP proxy: a permitted `tools/call` from a Streamable HTTP client to a Streamable
 * HTTP upstream is relayed as HTTP, request body out and response (JSON or an SSE stream, progress
 * notifications and all) back, byte for byte, on kept-alive connections. Nothing is re-encoded: the
 * session only decides, and tracks the call until its response has ended.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { sendableStatus } from '../http-proxy/http-common.js';

export interface HttpTarget {
  url: URL;
  /** The `mcp_server` block's headers (credentials for the upstream). */
  headers: Record<string, string>;
  /** The upstream's session, from its initialize reply. */
  sessionId?: string;
}

const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 256 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }) };

/** Headers of the client's request the upstream needs (its own session id replaces the client's). */
const FORWARDED = ['accept', 'mcp-protocol-version', 'last-event-id'];
/** Headers of the upstream's response the client gets (never the upstream's session id). */
const RETURNED = ['content-type', 'cache-control'];

/**
 * Send `body` to the upstream and stream its response to `res`; resolves once the upstream's response
 * has ended (or failed: then the client gets a JSON-RPC error for `id`, if nothing was sent yet). A
 * client that leaves does not cancel a permitted call: the upstream finishes it, as on the slow path.
 */
export function relayCall(
  target: HttpTarget,
  body: string,
  req: IncomingMessage,
  res: ServerResponse,
  id: string | number,
  /** The call's brokered credential, as a header: for the upstream only. */
  credential: Record<string, string> = {},
  /** Each request the upstream sends the client within the call's event stream (sampling, elicitation, …). */
  serverRequest: (method: string) => void = () => {},
  /**
   * Given how to end the relay when the client cancels the call: the upstream, told of the
   * cancellation, will never answer it, so its response would stay open for ever.
   */
  cancellable: (cancel: () => void) => void = () => {},
): Promise<void> {
  return new Promise((resolve) => {
    const https = target.url.protocol === 'https:';
    const headers: Record<string, string> = {
      ...target.headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...(target.sessionId ? { 'mcp-session-id': target.sessionId } : {}),
    };
    for (const h of FORWARDED) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
    Object.assign(headers, credential);
    const gone = () => res.destroyed || res.writableEnded;
    const failed = (why: string) => {
      if (!res.headersSent && !gone()) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message: `the MCP server: ${why}` } }));
      } else res.destroy();
      resolve();
    };
    const up = (https ? httpsRequest : httpRequest)(
      target.url,
      { method: 'POST', headers, agent: https ? agents.https : agents.http },
      (upRes) => {
        let events = false;
        let answered = false;
        // An event stream that ends, or is cut, before the call's answer: the client hears so in the
        // stream itself, rather than wait for ever for an answer that will not come (the server closed
        // it politely, or went away). What a cut left of an event is ended first, so this one is read
        // on its own. The client cannot resume the stream: the proxy keeps none of its events.
        const unanswered = (why: string) => {
          const error = { jsonrpc: '2.0', id, error: { code: -32603, message: `the MCP server: ${why}; the call may have run` } };
          res.end(`\n\nevent: message\ndata: ${JSON.stringify(error)}\n\n`);
          resolve();
        };
        upRes.once('end', () => {
          if (events && !answered && !gone()) return unanswered('the response ended before the answer');
          if (!gone()) res.end();
          resolve();
        });
        upRes.once('error', () => {
          if (!events || answered || gone()) return failed('the response broke off');
          unanswered('the response broke off before the answer');
        });
        if (!sendableStatus(upRes.statusCode) || upRes.statusCode >= 400) {
          upRes.resume();
          return failed(`HTTP ${upRes.statusCode}${upRes.statusCode === 404 ? ' (its session ended: initialize again)' : ''}`);
        }
        if (gone()) return void upRes.resume();
        const out: Record<string, string> = {};
        for (const h of RETURNED) if (typeof upRes.headers[h] === 'string') out[h] = upRes.headers[h];
        res.writeHead(upRes.statusCode, out);
        events = /^text\/event-stream\b/i.test(upRes.headers['content-type'] ?? '');
        if (events) watchEvents(upRes, serverRequest, () => (answered = true));
        upRes.pipe(res, { end: false });
        // The client left mid-stream: the rest is read and dropped.
        res.once('close', () => {
          if (res.writableFinished) return;
          upRes.unpipe(res);
          upRes.resume();
        });
      },
    );
    up.once('error', (e) => failed(e.message));
    cancellable(() => {
      up.removeAllListeners('error').on('error', () => {});
      up.destroy();
      // The client ignores whatever answers a request it cancelled: this only ends its stream.
      if (!res.headersSent && !gone()) failed('request cancelled by the client');
      else if (!gone()) res.end();
      resolve();
    });
    up.end(body);
  });
}

/** The most of one event the watch holds (a server's request is far smaller; a result may be far larger). */
const WATCHED_EVENT_CHARS = 8 * 1024 * 1024;

/**
 * Read an SSE stream as it passes (the bytes go on unchanged) for the requests among its messages:
 * the server asking the client something mid-call (sampling, elicitation) is recorded, as it is on
 * the full path; `answer` is told when the call's answer goes by. Each character is looked at once,
 * however long the event.
 */
function watchEvents(stream: IncomingMessage, serverRequest: (method: string) => void, answer: () => void): void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let cr = false;
  let data: string[] = [];
  /** The current line's length, and the characters held for the event being read. */
  let lineChars = 0;
  let held = 0;
  /** The event outgrew WATCHED_EVENT_CHARS: a result, not a server's request (those are small), passed on unread. */
  let tooLong = false;
  const event = () => {
    const long = tooLong;
    const text = long ? '' : data.join('\n');
    data = [];
    held = 0;
    tooLong = false;
    // Only a result is that long: the call's answer went by.
    if (long) return answer();
    if (!text.includes('"method"')) {
      if (text.includes('"result"') || text.includes('"error"')) answer();
      return;
    }
    try {
      const m = JSON.parse(text) as { method?: unknown; id?: unknown; result?: unknown; error?: unknown };
      if (typeof m.method === 'string' && m.id !== undefined) serverRequest(m.method);
      else if (m.method === undefined && (m.result !== undefined || m.error !== undefined)) answer();
    } catch {
      // not JSON: the client will say so
    }
  };
  const lineEnd = () => {
    if (lineChars === 0) event();
    else if (!tooLong && pending.startsWith('data:')) data.push(pending.slice(pending.startsWith('data: ') ? 6 : 5));
    pending = '';
    lineChars = 0;
  };
  const keep = (text: string) => {
    lineChars += text.length;
    if (tooLong || text === '') return;
    held += text.length;
    if (held <= WATCHED_EVENT_CHARS) return void (pending += text);
    tooLong = true;
    pending = '';
    data = [];
  };
  stream.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 && cr) {
        cr = false;
        start = i + 1;
        continue;
      }
      cr = c === 13;
      if (c !== 10 && c !== 13) continue;
      keep(text.slice(start, i));
      lineEnd();
      start = i + 1;
    }
    keep(text.slice(start));
  });
}

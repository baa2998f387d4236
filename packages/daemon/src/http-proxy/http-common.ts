/** What the forward and reverse proxies share: which headers stay behind, and how a refusal is written. */
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { NOT_READY, type GovernResult } from '../wire/agent-protocol.js';

/** Headers of this hop alone: never passed on. */
export const HOP = new Set([
  'connection',
  // 100-continue is between the client and this hop (Node answers it); the upstream gets the body as it comes.
  'expect',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/**
 * A streamed body's framing, stated again for the upstream. `transfer-encoding` belongs to this hop,
 * and Node frames a GET, HEAD, DELETE or OPTIONS of its own only by a length: a chunked body sent on
 * without its framing would reach the upstream raw, read there as a second request no one decided.
 */
export function frameBody(req: IncomingMessage, out: Record<string, string | string[]>): void {
  if (req.headers['transfer-encoding'] === undefined) return;
  out['transfer-encoding'] = 'chunked';
  delete out['content-length'];
}

/**
 * Keep every header of a request in `req.headers`. By default Node keeps the first 1,000 or so and
 * drops the rest silently, while its parser still frames the body by a `Content-Length` or
 * `Transfer-Encoding` among those dropped: the proxies, which state a body's framing again from
 * `req.headers`, would then send it on with none, and the upstream would read it as a request no one
 * decided. The header block stays bounded by `maxHeaderSize` (16 KiB).
 */
export function keepEveryHeader(server: Server): void {
  server.maxHeadersCount = 0;
}

/**
 * Headers that carry credentials: never shown to the policy, so never in the log, an approval or a
 * sink. Matched broadly (any `auth`, `token`, `secret`, `session`, `signature` or `…-key` name:
 * `X-Goog-Api-Key`, `Ocp-Apim-Subscription-Key`, `apikey`), since hiding a harmless header costs a
 * rule a field while showing a credential leaks it.
 */
export const SECRET = /^(cookie|set-cookie)$|auth|token|secret|passw|credential|session|signature|api-?key|[-_]key$/i;

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The caller's correlation id, kept as the record's `request_id` so `audit trace` and `explain run`
 * find a task's requests: `X-Faramesh-Request-Id`, else `X-Request-Id`, else the trace id of a W3C
 * `traceparent`. It groups records and decides nothing; an id longer than a record holds is ignored.
 */
export function requestIdOf(headers: IncomingHttpHeaders): { request_id?: string } {
  const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v.trim() : '');
  const id =
    one(headers['x-faramesh-request-id']) || one(headers['x-request-id']) || (TRACEPARENT.exec(one(headers.traceparent))?.[1] ?? '');
  return id && id.length <= 256 ? { request_id: id } : {};
}

/** A connection (to the client or the upstream) idle this long is dropped: a stalled peer cannot hold a socket. */
export const IDLE_MS = 120_000;

/**
 * An upstream status a proxy can pass on. Node's client takes any three digits (`099`), and
 * `writeHead` throws outside 100–599: such an answer is a 502, never a crash.
 */
export function sendableStatus(code: number | undefined): code is number {
  return code !== undefined && code >= 100 && code <= 599;
}

/** A denial or defer as the proxies answer it: the structured denial, with the approval id for a defer. */
export function denialBody(r: GovernResult): Record<string, unknown> {
  return {
    effect: r.effect,
    ...(r.structured_denial ?? { code: r.reason_code ?? 'POLICY_DENY' }),
    ...(r.action_id ? { action_id: r.action_id } : {}),
    ...(r.defer_token ? { approval_id: r.defer_token } : {}),
  };
}

/** A proxied request the daemon is not ready to decide: the errors.md payload, with its `retry-after`. */
export function notReady(res: ServerResponse): void {
  reply(res, 503, { effect: 'DENY', ...NOT_READY }, { 'retry-after': String(NOT_READY.resolution.retry_after_seconds) });
}

const ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  407: 'proxy_auth_required',
  413: 'too_large',
  415: 'unsupported_media_type',
  421: 'misdirected',
  500: 'internal',
  502: 'bad_gateway',
};

/** A proxy's own error (not a decision), shaped as the HTTP API's: `{"error": {"code", "message"}}`. */
export function errorBody(status: number, message: string): { error: { code: string; message: string } } {
  return { error: { code: ERROR_CODES[status] ?? 'error', message } };
}

export function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

/**
 * HttpTransport: the daemon's HTTP API (`POST /v1/evaluate`, `GET /v1/approvals/<id>`), for remote
 * daemons and edge runtimes. Only `fetch` is used, and nothing from `node:`: it runs in Workers.
 */
import {
  checkResult,
  spawnCounts,
  TransportError,
  type ApprovalStatus,
  type GovernRequest,
  type GovernResult,
  type SpawnEnded,
  type Transport,
} from '../wire.js';

export interface HttpTransportOptions {
  /** Bearer token (`faramesh token issue --agent <id>`); required off loopback. */
  token?: string;
  /** The runtime's fetch (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

/** Errors that mean no connection was made. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EACCES',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export class HttpTransport implements Transport {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(
    url: string,
    private readonly options: HttpTransportOptions = {},
  ) {
    this.base = url.trim().replace(/\/+$/, '');
    // A URL fetch cannot use is a deployment mistake, said here (a call is then DAEMON_UNREACHABLE,
    // never failOpen'd): found only by fetch, it read as a daemon that failed, retry in 2 s, for ever.
    if (!/^https?:$/.test(urlProtocol(this.base) ?? ''))
      throw new TypeError('HttpTransport needs an http:// or https:// URL (FARAMESH_REMOTE_URL, FARAMESH_BASE_URL)');
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new TypeError('HttpTransport needs fetch: pass { fetch } on this runtime');
    this.fetch = f;
  }

  async govern(request: GovernRequest, timeoutMs: number): Promise<GovernResult> {
    return checkResult(await this.call('POST', '/v1/evaluate', timeoutMs, JSON.stringify(request)));
  }

  async poll(approvalId: string, _agentId: string, timeoutMs: number): Promise<ApprovalStatus> {
    // A poll only reads: a daemon not ready yet (503, INITIALIZING) is asked again, like one not there yet.
    const reply = (await this.call('GET', `/v1/approvals/${encodeURIComponent(approvalId)}`, timeoutMs, undefined, true)) as {
      status?: ApprovalStatus;
    } | null;
    // Any JSON may come back (`null`, a list): what is not a status object says nothing about the approval.
    return (typeof reply === 'object' && reply?.status) || 'unknown';
  }

  async spawnEnded(agentId: string, count: number, timeoutMs: number): Promise<SpawnEnded> {
    return spawnCounts(await this.call('POST', '/v1/spawn_ended', timeoutMs, JSON.stringify({ agent_id: agentId, count })));
  }

  private async call(method: string, path: string, timeoutMs: number, body?: string, notReadyRetries = false): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        // Never followed: another origin's answer is not the daemon's decision, and a 307/308 would
        // hand it the request (args, principal token).
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timedOut = (e as Error).name === 'TimeoutError';
      const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
      // Unreachable only when no connection was made: a request cut off after it was sent may have
      // been decided. An error that does not say so (an edge runtime's fetch, a redirect loop) is not.
      const unreachable = !timedOut && typeof cause?.code === 'string' && NOT_CONNECTED.has(cause.code);
      const why = timedOut
        ? `no answer within ${timeoutMs} ms`
        : `${(e as Error).message}${typeof cause?.message === 'string' ? `: ${cause.message}` : ''}`;
      throw new TransportError(`${this.base}: ${why}`, unreachable);
    }
    // `manual`: a runtime gives the 3xx itself, or (in browsers) an opaque redirect with status 0.
    if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
      void res.body?.cancel().catch(() => {});
      throw new TransportError(`${this.base}${path}: ${res.status || 'a'} redirect, not followed (set the daemon's own URL)`, false);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      // The answer was cut off, or did not finish within the timeout: no decision to act on.
      const why =
        (e as Error).name === 'TimeoutError'
          ? `no whole answer within ${timeoutMs} ms`
          : `the answer was cut off (${(e as Error).message})`;
      throw new TransportError(`${this.base}${path}: ${why}`, false);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new TransportError(`${this.base}${path}: ${res.status} with a body that is not JSON`, false);
    }
    if (!res.ok) {
      // Any JSON may come back from what stands in front of the daemon (`null` too): read, never trusted.
      const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 200);
      // 4xx but 408 and 429 say the request itself is refused (malformed, too large, another agent's): a retry meets the same answer.
      const refused = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      const retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
      throw new TransportError(
        `${this.base}${path}: ${res.status} ${message}`,
        notReadyRetries && res.status === 503,
        false,
        refused,
        retryAfter,
      );
    }
    return parsed;
  }
}

/** The scheme of an absolute URL (`https:`), or undefined when it is not one. */
function urlProtocol(url: string): string | undefined {
  try {
    return new URL(url).protocol;
  } catch {
    return undefined;
  }
}

/** A `retry-after` of whole seconds (the form the daemon sends), at most an hour; undefined for none or a date. */
function retryAfterSeconds(header: string | null): number | undefined {
  const value = header?.trim();
  return value !== undefined && /^\d{1,9}$/.test(value) ? Math.min(Number(value), 3600) : undefined;
}

/**
 * Requests sent to a Streamable HTTP upstream, watched until answered. The SDK's client transport
 * reads each POST's answer from that POST's event stream, and when the stream ends without the
 * answer it does nothing unless the stream carried an event id (it then resumes it with a GET): a
 * server that closes the stream politely, or a connection cut while the server lives on, would leave
 * the call waiting for ever, and an agent with it. Here each such stream is watched, and a request
 * its stream ended without answering is reported: at once when the stream cannot be resumed, or
 * once the transport gives up resuming it.
 */
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * How long after a stream ends its last events have surely been read. They are in memory by then, and
 * the transport's parser hands them on within microtasks; the margin covers a busy event loop.
 */
const SETTLE_MS = 50;

export class AnswerStreams {
  /** Requests sent and not answered, by JSON id. */
  private readonly awaiting = new Map<string, RequestId>();
  /** Of those, the ones whose stream ended after an event id: the transport is resuming them. */
  private readonly resuming = new Set<string>();

  constructor(private readonly unanswered: (id: RequestId, why: string) => void) {}

  sent(id: RequestId): void {
    this.awaiting.set(JSON.stringify(id), id);
  }

  /** The request is answered (or failed some other way): nothing more to watch. */
  answered(id: RequestId): void {
    const key = JSON.stringify(id);
    this.awaiting.delete(key);
    this.resuming.delete(key);
  }

  clear(): void {
    this.awaiting.clear();
    this.resuming.clear();
  }

  /**
   * The transport's response to one of its requests. A POST's event stream is watched to its end; a
   * resuming GET the server refuses with 405 (the transport then stops, silently) gives the resumed
   * requests up.
   */
  watch(init: RequestInit | undefined, res: Response, server: string): Response {
    const method = init?.method ?? 'GET';
    if (method === 'GET' && res.status === 405 && new Headers(init?.headers).has('last-event-id')) {
      this.gaveUp(`the MCP server '${server}' refused to resume the event stream that was to carry the answer`);
      return res;
    }
    if (method !== 'POST' || !res.ok || !res.body || !res.headers.get('content-type')?.includes('text/event-stream')) return res;
    const ids = requestIds(init?.body);
    if (ids.length === 0) return res;
    const body = watchedBody(res.body, (resumable) =>
      setTimeout(() => {
        for (const key of ids) {
          if (!this.awaiting.has(key)) continue;
          if (resumable) this.resuming.add(key);
          else this.fail(key, `the MCP server '${server}' ended the response stream without answering; the request may have run`);
        }
      }, SETTLE_MS).unref(),
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  /** The transport stopped resuming streams (its attempts ran out): what they were to answer never will be. */
  gaveUp(why: string): void {
    for (const key of [...this.resuming]) this.fail(key, `${why}; the request may have run`);
  }

  private fail(key: string, why: string): void {
    const id = this.awaiting.get(key);
    this.awaiting.delete(key);
    this.resuming.delete(key);
    if (id !== undefined) this.unanswered(id, why);
  }
}

/** The JSON ids of the requests a POST body carries (the transport sends one message per POST). */
function requestIds(body: unknown): string[] {
  if (typeof body !== 'string') return [];
  try {
    const parsed = JSON.parse(body) as unknown;
    return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((m: unknown) =>
      typeof m === 'object' && m !== null && 'method' in m && 'id' in m ? [JSON.stringify((m as { id: unknown }).id)] : [],
    );
  } catch {
    return [];
  }
}

/**
 * `body`, passed on unchanged; `ended` hears when it ends or breaks, and whether an event id came
 * through first (an `id:` field with a value, which is what lets the transport resume the stream).
 * A body the transport cancels itself (it is closing) is not reported.
 */
function watchedBody(body: ReadableStream<Uint8Array>, ended: (resumable: boolean) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let resumable = false;
  let tail = '\n';
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (e) {
        controller.error(e);
        ended(resumable);
        return;
      }
      if (next.done) {
        controller.close();
        ended(resumable);
        return;
      }
      if (!resumable) {
        // The field may straddle two chunks: the end of the last one is read again with this one.
        const text = tail + decoder.decode(next.value, { stream: true });
        resumable = /[\r\n]id:(?! ?(?:[\r\n]|$))/.test(text);
        tail = text.slice(-8);
      }
      controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

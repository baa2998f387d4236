/**
 * A bound on what a cloud service's reply may hold when it is read through an official SDK. The
 * SDKs read a whole reply into memory before parsing it, and only the deadline stopped them: a
 * service (or anything answering in its place) that sent an endless body grew the daemon by the
 * bandwidth times the timeout. No reply the daemon asks for comes near the cap (a secret is at most
 * 64 KiB, a signature or a session far less); past it the call fails, and nothing is parsed.
 */
import { Readable } from 'node:stream';

/** The most of one SDK reply that is read; more fails the call. */
export const MAX_SDK_REPLY = 1 << 20;

/**
 * The one call of an AWS client's middleware stack (public API of every v3 client) this needs, as
 * used here: the stack's own type is a set of overloads, one a step, that no single function fits.
 */
interface DeserializeStack {
  add(
    mw: (
      next: (args: unknown) => Promise<{ response: unknown }>,
      context: { clientName?: string; commandName?: string },
    ) => (args: unknown) => Promise<{ response: unknown }>,
    options: { step: 'deserialize'; priority: 'low'; name: string },
  ): void;
}

/** The error for a reply past the cap; `what` names the service and the call. */
export function replyTooLarge(what: string, max = MAX_SDK_REPLY): Error {
  const size = max % (1 << 20) === 0 ? `${max >> 20} MiB` : `${max >> 10} KiB`;
  return new Error(`${what} replied with more than ${size}; the reply was refused`);
}

/**
 * Reads a stream (a Node stream or a fetch body) to its end, up to `max` bytes; past that the read
 * stops and `tooLarge` is thrown. Leaving the loop ends the stream (a Node stream is destroyed, a
 * fetch body cancelled), so the connection is dropped and no more is fetched.
 */
export async function readCapped(body: AsyncIterable<Uint8Array | string>, max: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += b.length;
    if (size > max) throw tooLarge();
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * Bounds every reply of an AWS client. The step sits innermost, under the SDK's parser: the body is
 * read here (the operations the daemon calls are not streaming ones, so the parser would read all of
 * it anyway), cut past `max`, and handed on as a buffer. A Content-Length already past the cap is
 * refused before any of it is read. The error carries no HTTP status, so the SDK does not retry it.
 */
export function capAwsReplies<C extends { middlewareStack: object }>(client: C, max = MAX_SDK_REPLY): C {
  (client.middlewareStack as DeserializeStack).add(
    (next, context) => async (args) => {
      const out = await next(args);
      const response = out.response as { headers?: Record<string, string>; body?: unknown };
      const body = response.body;
      if (!(body instanceof Readable)) return out;
      const what = `AWS ${context.clientName?.replace(/Client$/, '') ?? ''} ${context.commandName?.replace(/Command$/, '') ?? ''}`
        .replace(/ +/g, ' ')
        .trim();
      const declared = Number(Object.entries(response.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-length')?.[1]);
      if (declared > max) {
        body.destroy();
        throw replyTooLarge(what, max);
      }
      response.body = Readable.from([await readCapped(body, max, () => replyTooLarge(what, max))]);
      return out;
    },
    { step: 'deserialize', priority: 'low', name: 'farameshReplyCap' },
  );
  return client;
}

/**
 * A fetch for the Google clients (gaxios's `fetchImplementation`): each reply is read whole, up to
 * `max` bytes, before the client sees it, and handed on as a reply of its own. The clients read a
 * reply whole anyway (the daemon makes no streaming call); one announced past the cap is refused unread.
 */
export function cappedFetch(what: string, max = MAX_SDK_REPLY): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const tooLarge = () => replyTooLarge(`${what} (${new URL(res.url || String(input)).host})`, max);
    if (Number(res.headers.get('content-length')) > max) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    if (!res.body) return res;
    const body = await readCapped(res.body, max, tooLarge);
    // Statuses that may carry no body (204, 304, …) are rebuilt without one: Response refuses it.
    const bodiless = res.status === 101 || res.status === 204 || res.status === 205 || res.status === 304;
    return new Response(bodiless ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** What an Azure pipeline policy needs, as used here (the pipeline's own types are not a dependency). */
export interface AzureExchange {
  url: string;
  streamResponseStatusCodes?: Set<number>;
}
export interface AzureReply {
  status: number;
  headers: { get(name: string): string | undefined };
  bodyAsText?: string | null;
  readableStreamBody?: NodeJS.ReadableStream;
}

/**
 * An Azure pipeline policy (`additionalPolicies`, per retry, nearest the wire) that bounds every reply:
 * the HTTP client is asked to hand each body over as a stream, which is read here up to `max` bytes
 * into the text the client's parser reads. Without it the HTTP client read any body whole.
 */
export function azureReplyCap(what: string, max = MAX_SDK_REPLY) {
  return {
    position: 'perRetry' as const,
    policy: {
      name: 'farameshReplyCap',
      async sendRequest<Q extends AzureExchange, R extends AzureReply>(request: Q, next: (r: Q) => Promise<R>): Promise<R> {
        const wanted = request.streamResponseStatusCodes;
        // Infinity in this set asks the HTTP client to stream every status.
        request.streamResponseStatusCodes = new Set([Number.POSITIVE_INFINITY]);
        let res: R;
        try {
          res = await next(request);
        } finally {
          if (wanted) request.streamResponseStatusCodes = wanted;
          else delete request.streamResponseStatusCodes;
        }
        const stream = res.readableStreamBody;
        if (!stream || wanted?.has(res.status) || wanted?.has(Number.POSITIVE_INFINITY)) return res;
        const tooLarge = () => replyTooLarge(`${what} (${new URL(request.url).host})`, max);
        if (Number(res.headers.get('content-length')) > max) {
          (stream as Readable).destroy();
          throw tooLarge();
        }
        res.bodyAsText = (await readCapped(stream as Readable, max, tooLarge)).toString('utf8');
        delete res.readableStreamBody;
        return res;
      },
    },
  };
}

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
 * Reads a Node stream to its end, up to `max` bytes; past that the stream is destroyed (the
 * connection is dropped, so no more is fetched) and `tooLarge` is thrown.
 */
export async function readCapped(body: Readable, max: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += b.length;
    if (size > max) {
      body.destroy();
      throw tooLarge();
    }
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

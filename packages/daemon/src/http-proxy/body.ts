/**
 * Request bodies the daemon must read before deciding: read whole within a size and time limit, and
 * parsed so the policy sees what the upstream will. JSON with a key given twice is refused (parsers
 * disagree on which one wins, so a policy could check one amount while the upstream charged the
 * other), and so is a key that differs from another only in case or Unicode form: Go and ASP.NET
 * bind `Amount` (or `ſum` for `sum`) to the same field.
 */
import type { IncomingMessage } from 'node:http';
import { foldKey, roundedNumber, unfaithfulJson } from '@faramesh/protocol';

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The whole body, refused past `limit` bytes or when it has not arrived within `timeoutMs`. The
 * caller answers the refusal (a BodyError), closing the connection after a 408: the request is left
 * standing, since destroying it would close the socket before the client heard why.
 */
export async function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const tooLarge = () => new BodyError(413, `a request body read by the daemon is at most ${limit} bytes`);
  if (Number(req.headers['content-length']) > limit) {
    // Declared too large: none of it is kept, and no more of it than of any other is read.
    drain(req, DRAIN_BYTES, timeoutMs);
    throw tooLarge();
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (e?: Error) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', stop).off('aborted', onAborted);
      if (e === undefined) return resolve(Buffer.concat(chunks));
      // A body too large is read on and dropped, as Node drops one a reply came before, so a client
      // still sending hears the 413; up to DRAIN_BYTES more, then the connection is cut (an endless
      // body would otherwise be read for ever). Any other (a stall) is read no more: its reply closes
      // the connection.
      if (e instanceof BodyError && e.status === 413) drain(req, DRAIN_BYTES, timeoutMs);
      else req.pause();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return stop(tooLarge());
      chunks.push(chunk);
    };
    const onEnd = () => stop();
    const onAborted = () => stop(new BodyError(400, 'the client closed the connection before its body was whole'));
    const timer = setTimeout(() => stop(new BodyError(408, `the request body did not arrive within ${timeoutMs} ms`)), timeoutMs);
    req.on('data', onData).once('end', onEnd).once('error', stop).once('aborted', onAborted);
  });
}

/** How much of a body too large is read and dropped after its 413 before the connection is cut. */
const DRAIN_BYTES = 16 << 20;

/**
 * Read and drop what is left of a request, up to `most` bytes and for `ms` at most; past either its
 * connection is cut (an endless or a trickling body would otherwise hold it).
 */
function drain(req: IncomingMessage, most: number, ms: number): void {
  let dropped = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, ms).unref();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > most) cut();
  });
  req.once('end', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
  req.resume();
}

/** JSON text → value, refusing invalid JSON and duplicate keys. */
export function parseStrictJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BodyError(400, 'the body is not valid JSON');
  }
  const unfaithful = unfaithfulJson(value, 'body') ?? roundedNumber(text);
  if (unfaithful) throw new BodyError(400, unfaithful);
  const dup = duplicateKey(text);
  if (dup !== undefined)
    throw new BodyError(400, `the JSON body gives the key '${dup}' twice in one object (letter case and Unicode form aside)`);
  return value;
}

/**
 * The first key repeated within one object of valid JSON text (compared folded, see foldKey), if
 * any. A single pass over the text: a stack of the keys seen in each open object.
 */
export function duplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const folded = foldKey(key);
        if (top.has(folded)) return key;
        top.add(folded);
      }
      expectKey = false;
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack.at(-1) != null;
    }
  }
  return undefined;
}

/** A form body's fields: one value, or every value of a repeated name. */
export function formFields(text: string): Record<string, string | string[]> {
  const params = new URLSearchParams(text);
  // fromEntries defines keys: an assignment would turn a field named `__proto__` into a prototype.
  return Object.fromEntries(
    [...new Set(params.keys())].map((k) => {
      const all = params.getAll(k);
      return [k, all.length === 1 ? all[0]! : all];
    }),
  );
}

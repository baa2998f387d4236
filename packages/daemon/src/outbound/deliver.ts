/** Sending to what lies outside the daemon (sinks, alerts): one POST with a deadline, an error string or nothing. */
import type { SinkEvent, SinkFormat } from './sink-formats.js';
import { MAX_REPLY, replyText } from './reply-text.js';

/** No delivery may hold a worker longer than this. */
const TIMEOUT_MS = 10_000;

/**
 * An error as the daemon may show it (status, its log): never the target's URL, whose user, password
 * or path may be a secret (a Slack webhook's path is its key), nor a header's value (an API key).
 */
function scrubbed(message: string, url: string, headers: Record<string, string>): string {
  let out = message;
  for (const secret of [url, ...Object.values(headers)]) if (secret.length >= 4) out = out.split(secret).join('***');
  return out;
}

/** POST and read the reply; the error, if it did not land. */
export async function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  accepted?: (status: number, body: string) => string | undefined,
): Promise<string | undefined> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'the target is not a valid URL';
  }
  // fetch refuses such a URL, with an error that quotes it whole, password included.
  if (target.username || target.password)
    return 'the target URL carries a user name or password (user:password@), which is never sent: put the credentials in the token, api_key or headers';
  try {
    // A redirect is not followed: a 301/302/303 would turn the POST into a GET without its body (and
    // its 200 be taken for a delivery), and any would carry the headers (API keys) to another host.
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const to = res.headers.get('location');
      return `${res.status} ${res.statusText}: redirected${to ? ` to ${to.slice(0, 200)}` : ''}, not followed (name the final URL)`;
    }
    const { text, cut } = await replyText(res);
    if (res.status < 200 || res.status >= 300) return `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (cut && accepted) return `${res.status} ${res.statusText}: a reply of more than ${MAX_REPLY} bytes, not read whole`;
    return accepted?.(res.status, text);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    return scrubbed(`${(e as Error).message}${cause ? ` (${cause})` : ''}`, url, headers);
  }
}

export async function deliver(format: SinkFormat, events: SinkEvent[]): Promise<string | undefined> {
  if (format.ship) return format.ship(events);
  if (format.send) return format.send(events);
  if (!format.request) {
    process.stdout.write(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    return undefined;
  }
  const r = format.request(events);
  return post(r.url, r.headers, r.body);
}

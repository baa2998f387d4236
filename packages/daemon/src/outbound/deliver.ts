/** Sending to what lies outside the daemon (sinks, alerts): one POST with a deadline, an error string or nothing. */
import type { SinkEvent, SinkFormat } from './sink-formats.js';

/** No delivery may hold a worker longer than this. */
const TIMEOUT_MS = 10_000;

/** POST and read the reply; the error, if it did not land. */
export async function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  accepted?: (status: number, body: string) => string | undefined,
): Promise<string | undefined> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) return `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
    return accepted?.(res.status, text);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    return `${(e as Error).message}${cause ? ` (${cause})` : ''}`;
  }
}

export async function deliver(format: SinkFormat, events: SinkEvent[]): Promise<string | undefined> {
  if (format.ship) return format.ship(events);
  if (!format.request) {
    process.stdout.write(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    return undefined;
  }
  const r = format.request(events);
  return post(r.url, r.headers, r.body, format.accepted);
}

/**
 * What the object-store sinks (s3-sink, gcs-sink) share: an hour of records is a folder of NDJSON
 * objects, each named for the sequence numbers it holds, so a batch resent after a failure writes
 * the same names again and nothing doubles.
 */
import type { SinkEvent } from './sink-formats.js';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The key an hour's records go to: `decisions/2026/11/22/16/000000000042-000000000097.ndjson`. */
export function hourlyKey(prefix: string, hourMs: number, first: number, last: number): string {
  const d = new Date(hourMs);
  const hour = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}`;
  return `${prefix}${hour}/${pad(first, 12)}-${pad(last, 12)}.ndjson`;
}

/** Split a batch by the hour of each record's time, keeping log order within each. */
export function byHour(events: SinkEvent[]): { hourMs: number; events: SinkEvent[] }[] {
  const groups = new Map<number, SinkEvent[]>();
  for (const e of events) {
    const t = Date.parse(String(e.time));
    const hour = Number.isFinite(t) ? t - (t % 3_600_000) : 0;
    let g = groups.get(hour);
    if (!g) groups.set(hour, (g = []));
    g.push(e);
  }
  return [...groups].map(([hourMs, events]) => ({ hourMs, events }));
}

/** One NDJSON object's text: a record per line. */
export const ndjson = (events: SinkEvent[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

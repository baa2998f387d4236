/**
 * The `s3-sink`: records as NDJSON objects in a bucket, one object per hour of records in a batch,
 * under `<prefix>YYYY/MM/DD/HH/`, named for the sequence numbers they hold
 * (`<first>-<last>.ndjson`). S3 cannot append, so an hour is a folder of objects; a batch resent
 * after a failure writes the same keys again, so nothing doubles. Through the official client with
 * its default credentials and endpoint settings (AWS_ENDPOINT_URL_S3); `path_style = true` for
 * S3-compatible stores that need it. The client is loaded on first use.
 */
import type { SinkEvent } from './sink-formats.js';

export interface S3SinkConfig {
  region: string;
  bucket: string;
  prefix: string;
  pathStyle: boolean;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The key an hour's records go to: `decisions/2026/11/22/16/000000000042-000000000097.ndjson`. */
export function s3Key(prefix: string, hourMs: number, first: number, last: number): string {
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

export function s3Shipper(cfg: S3SinkConfig, timeoutMs: number): (events: SinkEvent[]) => Promise<string | undefined> {
  let client: Promise<{ send: (events: SinkEvent[]) => Promise<void> }> | undefined;
  const connect = async () => {
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ region: cfg.region, forcePathStyle: cfg.pathStyle });
    return {
      send: async (events: SinkEvent[]) => {
        for (const { hourMs, events: hour } of byHour(events)) {
          const first = Number(hour[0]!.seq);
          const last = Number(hour.at(-1)!.seq);
          await s3.send(
            new PutObjectCommand({
              Bucket: cfg.bucket,
              Key: s3Key(cfg.prefix, hourMs, first, last),
              Body: hour.map((e) => JSON.stringify(e)).join('\n') + '\n',
              ContentType: 'application/x-ndjson',
            }),
            { abortSignal: AbortSignal.timeout(timeoutMs) },
          );
        }
      },
    };
  };
  return async (events) => {
    try {
      await (await (client ??= connect())).send(events);
      return undefined;
    } catch (e) {
      // A client that failed to load is tried again next time.
      if (!(e as { $metadata?: unknown }).$metadata) client = undefined;
      return `s3: ${(e as Error).message}`;
    }
  };
}

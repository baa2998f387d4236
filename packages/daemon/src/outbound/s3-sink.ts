/**
 * The `s3-sink`: records as NDJSON objects in a bucket, one object per hour of records in a batch,
 * under `<prefix>YYYY/MM/DD/HH/`, named for the sequence numbers they hold
 * (`<first>-<last>.ndjson`). S3 cannot append, so an hour is a folder of objects; a batch resent
 * after a failure writes the same keys again, so nothing doubles. Through the official client with
 * its default credentials and endpoint settings (AWS_ENDPOINT_URL_S3); `path_style = true` for
 * S3-compatible stores that need it. The client is loaded on first use.
 */
import type { SinkEvent } from './sink-formats.js';
import { byHour, hourlyKey, ndjson } from './hourly-objects.js';
import { deadline } from './deadline.js';
import { capAwsReplies } from './sdk-reply-cap.js';

export interface S3SinkConfig {
  region: string;
  bucket: string;
  prefix: string;
  pathStyle: boolean;
}

export function s3Shipper(cfg: S3SinkConfig, timeoutMs: number): (events: SinkEvent[]) => Promise<string | undefined> {
  let client: Promise<{ send: (events: SinkEvent[]) => Promise<void> }> | undefined;
  const connect = async () => {
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = capAwsReplies(new S3Client({ region: cfg.region, forcePathStyle: cfg.pathStyle }));
    return {
      send: async (events: SinkEvent[]) => {
        for (const { hourMs, events: hour } of byHour(events)) {
          const first = Number(hour[0]!.seq);
          const last = Number(hour.at(-1)!.seq);
          // The abort signal does not reach the lookup of the daemon's credentials (a credential_process,
          // the instance endpoint) before the upload: one that hangs held the sink for good, still HEALTHY.
          await deadline(
            s3.send(
              new PutObjectCommand({
                Bucket: cfg.bucket,
                Key: hourlyKey(cfg.prefix, hourMs, first, last),
                Body: ndjson(hour),
                ContentType: 'application/x-ndjson',
              }),
              { abortSignal: AbortSignal.timeout(timeoutMs) },
            ),
            timeoutMs,
            'the upload (or the credential lookup before it)',
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

/**
 * The `gcs-sink`: records as hourly NDJSON objects in a Cloud Storage bucket, named as the s3-sink
 * names them (`<prefix>YYYY/MM/DD/HH/<first>-<last>.ndjson`, so a resent batch rewrites the same
 * objects). Through the official client (@google-cloud/storage, loaded on first use) with Google's
 * default credentials; each upload is a single request whose CRC32C the client checks against the
 * stored object. `endpoint` names another API host (a private endpoint, or an emulator).
 */
import type { SinkEvent } from './sink-formats.js';
import { byHour, hourlyKey, ndjson } from './hourly-objects.js';
import { deadline } from './deadline.js';

export interface GcsSinkConfig {
  bucket: string;
  prefix: string;
  project?: string;
  endpoint?: string;
}

export function gcsShipper(cfg: GcsSinkConfig, timeoutMs: number): (events: SinkEvent[]) => Promise<string | undefined> {
  let bucket: Promise<import('@google-cloud/storage').Bucket> | undefined;
  const connect = async () => {
    const { Storage } = await import('@google-cloud/storage');
    const storage = new Storage({
      ...(cfg.project ? { projectId: cfg.project } : {}),
      // Another host is still Google's API (a private endpoint): it gets the credentials too.
      ...(cfg.endpoint ? { apiEndpoint: cfg.endpoint, useAuthWithCustomEndpoint: true } : {}),
      retryOptions: { autoRetry: false },
      // The client puts its own `timeout` on every request, over any one passed to a call (save's
      // included): without it an upload the bucket never answers kept its socket open after the
      // deadline below gave up on it, one more each retry. With it the request is aborted, socket and all.
      timeout: timeoutMs,
    });
    // A service account signs its own token, as the KMS and Secret Manager clients do: no token
    // exchange with a fixed Google host. Other credential kinds ignore the flag.
    const client = await storage.authClient.getClient();
    (client as { useJWTAccessWithScope?: boolean }).useJWTAccessWithScope = true;
    return storage.bucket(cfg.bucket);
  };
  return async (events) => {
    try {
      const b = await deadline((bucket ??= connect()), timeoutMs, 'finding the credentials');
      for (const { hourMs, events: hour } of byHour(events)) {
        const name = hourlyKey(cfg.prefix, hourMs, Number(hour[0]!.seq), Number(hour.at(-1)!.seq));
        // The client's `timeout` does not reach a single-request upload: a bucket that takes the
        // request and never answers held the sink for good, still HEALTHY. The batch is resent under
        // the same name, so an upload that lands after the deadline is only overwritten.
        await deadline(
          b.file(name).save(ndjson(hour), { resumable: false, contentType: 'application/x-ndjson', validation: 'crc32c' }),
          timeoutMs,
          'the upload',
        );
      }
      return undefined;
    } catch (e) {
      // A client that failed to load is tried again next time; the sink retries the batch itself.
      if (!(e as { code?: unknown }).code) bucket = undefined;
      return `gcs: ${(e as Error).message}`;
    }
  };
}

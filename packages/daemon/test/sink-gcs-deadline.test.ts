/**
 * A gcs-sink whose bucket takes the upload and never answers: the batch fails within the sink's
 * deadline (the sink turns DEGRADED and retries), rather than holding the sink for good while it
 * still reads HEALTHY. The upload given up on is aborted too: its socket is closed, not left open
 * until the bucket answers (one more with every retry).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gcsShipper } from '../src/outbound/gcs-sink.js';

test('an upload the bucket never answers fails within the deadline', async () => {
  // A service account signs its own token: no token endpoint is called.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const credentials = join(mkdtempSync(join(tmpdir(), 'fm-gcs-hang-')), 'sa.json');
  writeFileSync(
    credentials,
    JSON.stringify({
      type: 'service_account',
      project_id: 'test-project',
      private_key_id: 'k1',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: 'sink@test-project.iam.gserviceaccount.com',
      client_id: '1',
      token_uri: 'http://127.0.0.1:1/token',
    }),
  );
  const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.GOOGLE_APPLICATION_CREDENTIALS = credentials;
  const held: ServerResponse[] = [];
  const closed: Promise<void>[] = [];
  const server = createServer((req, res) => {
    req.resume();
    held.push(res); // never answered
    closed.push(new Promise((r) => req.socket.once('close', () => r())));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // Loaded before the clock starts: on a busy machine loading the client alone can take the 1.5 s.
  await import('@google-cloud/storage');
  try {
    const ship = gcsShipper(
      { bucket: 'audit', prefix: 'decisions/', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
      1500,
    );
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ship([{ id: 'a', seq: 1, type: 'decision', time: new Date().toISOString() }]),
      new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 15_000))),
    ]);
    clearTimeout(timer);
    assert.notEqual(outcome, 'hung', 'the upload held the sink past its deadline');
    assert.match(String(outcome), /^gcs: .*did not answer within 1\.5 s/);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(held.length, 1, 'the upload reached the bucket');
    const left = await Promise.race([
      closed[0]!.then(() => 'closed'),
      new Promise<'open'>((r) => (timer = setTimeout(() => r('open'), 5_000))),
    ]);
    clearTimeout(timer);
    assert.equal(left, 'closed', "the abandoned upload's socket was left open");
  } finally {
    if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    server.closeAllConnections();
    server.close();
  }
});

/**
 * The gcs-sink with the official client (@google-cloud/storage) against a fake Cloud Storage over
 * TLS that checks the service account's signed token and answers with the object's CRC32C: records land
 * as hourly NDJSON objects; an outage degrades the sink without slowing decisions, and once the
 * bucket is back every record lands, none twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGcp } from './fake-gcp.js';
import { makeStack, type Stack } from './daemon-helpers.js';
import { objectSinkScenario, sinkPolicy } from './object-sink-scenario.js';

const gcp = new FakeGcp(mkdtempSync(join(tmpdir(), 'fm-gcs-')));
let s: Stack;

before(async () => {
  await gcp.start();
  s = makeStack(
    sinkPolicy(`provider "archive" {
  type     = "gcs-sink"
  project  = "test-project"
  bucket   = "audit-archive"
  prefix   = "decisions"
  endpoint = "${gcp.url}"
}
`),
    { GOOGLE_APPLICATION_CREDENTIALS: gcp.credentialsFile, NODE_EXTRA_CA_CERTS: gcp.caFile },
  );
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr);
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  gcp.stop();
});

test('records land as hourly NDJSON objects; an outage degrades the sink, then every record lands once', () =>
  objectSinkScenario(s, {
    objects: gcp.objects,
    down: (on) => (gcp.storageDown = on),
    error: /^gcs: /,
    authenticated: () => gcp.calls.filter((c) => c.path.startsWith('/upload/')).every((c) => c.authorized),
  }));

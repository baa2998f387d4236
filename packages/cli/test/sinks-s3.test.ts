/**
 * The s3-sink with the official client against a fake S3 that checks SigV4 and the payload hash:
 * records land as NDJSON objects under `<prefix>YYYY/MM/DD/HH/<first>-<last>.ndjson`; an outage
 * degrades the sink without slowing decisions, and once S3 is back every record lands, none twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAws } from './fake-aws.js';
import type { Stack } from './daemon-helpers.js';
import { objectSinkScenario, s3Stack } from './object-sink-scenario.js';

const aws = new FakeAws();
let s: Stack;

before(async () => {
  await aws.start();
  s = s3Stack(aws);
  const applied = await s.cliAsync('apply');
  assert.equal(applied.code, 0, applied.stderr);
});
after(async () => {
  await s.cliAsync('apply', '--stop');
  aws.stop();
});

test('records land as hourly NDJSON objects; an outage degrades the sink, then every record lands once', () =>
  objectSinkScenario(s, {
    objects: aws.objects,
    down: (on) => (aws.s3Down = on),
    error: /^s3: .*reduce your request rate/,
    authenticated: () => aws.calls.filter((c) => c.service === 's3').every((c) => c.signed),
  }));

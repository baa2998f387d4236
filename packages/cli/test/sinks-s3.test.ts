/**
 * The s3-sink with the official client against a fake S3 that checks SigV4 and the payload hash:
 * records land as NDJSON objects under `<prefix>YYYY/MM/DD/HH/<first>-<last>.ndjson`; an outage
 * degrades the sink without slowing decisions, and once S3 is back every record lands, none twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAws } from './fake-aws.js';
import { makeStack, type Stack } from './daemon-helpers.js';
import { objectSinkScenario, sinkPolicy } from './object-sink-scenario.js';

const aws = new FakeAws();
let s: Stack;

before(async () => {
  await aws.start();
  s = makeStack(
    sinkPolicy(`provider "archive" {
  type       = "s3-sink"
  region     = "us-east-1"
  bucket     = "audit-archive"
  prefix     = "decisions"
  path_style = true
}
`),
    {
      AWS_ACCESS_KEY_ID: aws.rootKey,
      AWS_SECRET_ACCESS_KEY: aws.rootSecret,
      AWS_ENDPOINT_URL_S3: aws.url,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  );
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

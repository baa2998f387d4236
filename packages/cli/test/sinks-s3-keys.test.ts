/**
 * The fake S3 checks SigV4 as S3 does: the object key in the canonical URI is encoded once (S3 is the
 * one service that does not encode it twice), so a prefix with a space or a `+` lands like any other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAws } from './fake-aws.js';
import { makeStack, until } from './daemon-helpers.js';
import { sinkPolicy } from './object-sink-scenario.js';

test('an s3-sink prefix that needs encoding (a space, a plus) is signed and stored', async () => {
  const aws = new FakeAws();
  await aws.start();
  const s = makeStack(
    sinkPolicy(`provider "archive" {
  type       = "s3-sink"
  region     = "us-east-1"
  bucket     = "audit-archive"
  prefix     = "audit logs+x"
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
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: 1 } })).effect, 'PERMIT');
    await until('an object', () => aws.objects.size > 0, 20_000);
    assert.match([...aws.objects.keys()][0]!, /^audit-archive\/audit logs\+x\/\d{4}\//);
    assert.ok(aws.calls.filter((c) => c.service === 's3').every((c) => c.signed));
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    aws.stop();
  }
});

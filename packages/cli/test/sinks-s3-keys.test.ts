/**
 * The fake S3 checks SigV4 as S3 does: the object key in the canonical URI is encoded once (S3 is the
 * one service that does not encode it twice), so a prefix with a space or a `+` lands like any other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAws } from './fake-aws.js';
import { until } from './daemon-helpers.js';
import { s3Stack } from './object-sink-scenario.js';

test('an s3-sink prefix that needs encoding (a space, a plus) is signed and stored', async () => {
  const aws = new FakeAws();
  await aws.start();
  const s = s3Stack(aws, 'audit logs+x');
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

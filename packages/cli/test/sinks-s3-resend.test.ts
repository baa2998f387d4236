/**
 * An s3-sink upload the daemon never heard back from (it was killed mid-upload) is resent after the
 * restart as the same records, so under the same object name: the store never holds a record twice,
 * though the log grew meanwhile (the restart's own records).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAws } from './fake-aws.js';
import { until } from './daemon-helpers.js';
import { s3Stack } from './object-sink-scenario.js';

test('a batch cut short by a crash is resent as the same object: no record stored twice', async () => {
  const aws = new FakeAws();
  await aws.start();
  const s = s3Stack(aws);
  const stored = () =>
    [...aws.objects.values()].flatMap((o) =>
      o.body
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    );
  try {
    assert.equal((await s.cliAsync('apply')).code, 0);
    await until('the first objects', () => aws.objects.size > 0, 20_000);
    const before = aws.objects.size;
    aws.s3Hold = true;
    for (let i = 0; i < 3; i++) await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: i } });
    await until('an upload the daemon will never hear back from', () => aws.objects.size > before, 20_000);
    process.kill(s.pid(), 'SIGKILL');
    aws.s3Hold = false;
    assert.equal((await s.cliAsync('apply')).code, 0);
    const after = await s.govern({ agent_id: 'bot', tool_id: 'ticket/read', args: { id: 9 } });
    const seq = Number((await s.cliAsync('audit', 'show', after.action_id!, '--format', 'json')).stdout.match(/"seq": (\d+)/)![1]);
    await until('the records after the restart to land', () => stored().includes(seq), 30_000);
    const seqs = stored();
    assert.equal(new Set(seqs).size, seqs.length, `no record stored twice: ${[...aws.objects.keys()].join(', ')}`);
  } finally {
    await s.cliAsync('apply', '--stop');
    s.stop();
    aws.stop();
  }
});

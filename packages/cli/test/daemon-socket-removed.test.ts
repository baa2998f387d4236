import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { appliedStack, POLICY, until } from './daemon-helpers.js';

test('an agent or operator socket removed while the daemon runs is made again: calls, status and stop find it', async () => {
  const s = appliedStack(POLICY);
  try {
    const operator = join(s.dir, '.faramesh', 'runtime', 'operator.sock');
    unlinkSync(s.socket);
    unlinkSync(operator);
    await until('the agent socket to answer again', async () => {
      try {
        return (await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 1 } })).effect !== undefined;
      } catch {
        return false;
      }
    });
    assert.equal(s.cli('status').code, 0, 'status reaches the daemon on its operator socket');
    assert.match(
      readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8'),
      /agent\.sock was removed while the daemon ran: listening there again/,
    );
    const stopped = s.cli('apply', '--stop');
    assert.equal(stopped.code, 0);
    assert.doesNotMatch(stopped.stdout + stopped.stderr, /no daemon is running/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

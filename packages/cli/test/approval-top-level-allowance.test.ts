import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appliedStack, RUNTIME } from './daemon-helpers.js';

// Top-level rules decide every agent id without a block of its own, and on the agent socket that id is
// whatever the caller says: a caller naming a new agent for each deferral must still meet the limit.
const POLICY = `${RUNTIME}
defer stripe/refund reason "refunds need a human"

agent "bot" {
  default deny
  rules {
    defer stripe/refund
  }
}
`;

test('agents decided by the top-level rules share one allowance of waiting approvals; a declared agent keeps its own', async () => {
  const s = appliedStack(POLICY);
  try {
    const refund = (agent: string, i: number) =>
      s.govern({ agent_id: agent, tool: 'stripe', operation: 'refund', args: { order: `A-${i}` } });
    for (let i = 0; i < 100; i++) assert.equal((await refund(`anon-${i}`, i)).effect, 'DEFER');
    const over = await refund('anon-100', 100);
    assert.equal(over.effect, 'DENY', 'a fresh agent id does not make room');
    assert.equal(over.reason_code, 'RATE_EXCEEDED');
    assert.match(
      over.structured_denial!.human_message,
      /agents without a block of their own share one allowance: 100 approvals are already waiting/,
    );
    assert.equal((await refund('bot', 0)).effect, 'DEFER', 'a declared agent is not held up');
    const listed = JSON.parse(s.cli('approvals', 'list', '--json').stdout) as { approvals: Record<string, unknown>[] };
    assert.equal(listed.approvals.length, 101);
    assert.ok(
      listed.approvals.every((a) => !('top_level' in a)),
      'the allowance is the daemon’s bookkeeping',
    );
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

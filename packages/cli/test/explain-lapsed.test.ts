/**
 * An operator's approval that lapsed unused reads the same in `approvals show` and `explain
 * approval`: approved by the operator, lapsed unused. Nobody "expired" it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStack, POLICY, until } from './daemon-helpers.js';

test('explain approval names who approved an approval that lapsed unused, as approvals show does', async () => {
  // Long enough for the approve below to land in time on a slow machine; short enough to wait out.
  const s = makeStack(
    POLICY.replace('socket  = "./.faramesh/runtime/agent.sock"', 'socket  = "./.faramesh/runtime/agent.sock"\n  approval_ttl = "5s"'),
  );
  try {
    assert.equal(s.cli('apply').code, 0);
    const deferred = await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 3 } });
    assert.equal(deferred.effect, 'DEFER');
    const id = deferred.defer_token!;
    assert.equal(s.cli('approvals', 'approve', id, '--reason', 'ok once').code, 0);
    await until('the approval to lapse', () => s.cli('approvals', 'show', id).stdout.includes('LAPSED UNUSED'), 30_000);
    const shown = s.cli('approvals', 'show', id).stdout;
    assert.match(shown, /Resolved: +approved by /);
    const explained = s.cli('explain', 'approval', id);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /status +APPROVED, LAPSED UNUSED/);
    assert.match(explained.stdout, /resolved +approved by /, explained.stdout);
  } finally {
    s.stop();
  }
});

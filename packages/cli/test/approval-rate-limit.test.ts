/**
 * A deferred call takes its rate-limit token when it is deferred. Approved, its retry runs on that
 * token: with `1 per hour` it is not refused as RATE_EXCEEDED, which would make the approval useless.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStack, POLICY } from './daemon-helpers.js';

test('an approved deferral runs on the rate token its deferral took; an unapproved retry is still limited', async () => {
  const s = makeStack(POLICY.replace('rate_limit "search": 3 per minute', 'rate_limit "stripe/*": 1 per hour'));
  try {
    assert.equal(s.cli('apply').code, 0);
    const refund = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 3 } };
    const deferred = await s.govern(refund);
    assert.equal(deferred.effect, 'DEFER');
    const other = await s.govern({ ...refund, args: { amount: 4 } });
    assert.equal(other.reason_code, 'RATE_EXCEEDED', 'the deferral took the only token');
    assert.equal(s.cli('approvals', 'approve', deferred.defer_token!).code, 0);
    const run = await s.govern(refund);
    assert.equal(run.effect, 'PERMIT', JSON.stringify(run));
    // Spent: the next identical call is limited again (and no approval is waiting for it).
    assert.equal((await s.govern(refund)).reason_code, 'RATE_EXCEEDED');
    assert.equal(s.cli('audit', 'verify').code, 0);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

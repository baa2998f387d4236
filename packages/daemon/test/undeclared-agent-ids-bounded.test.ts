/**
 * Agent ids the policy does not declare are the caller's to choose: a caller naming a new one for
 * each call must not grow the daemon's per-agent tables (or its log) by every call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionService } from './decision-service-fixture.js';

const POLICY = `permit t/read

agent "bot" {
  default deny
  rules {
    permit t/*
  }
}
`;

test('calls under invented agent ids leave countsByAgent and the claims note bounded', async () => {
  const said: string[] = [];
  // Principal claims without a token are ignored (and noted once): the gate says so for every call.
  const principals = { resolve: () => ({ ignored: true }) };
  const { log, decisions } = await decisionService(POLICY, { say: (l: string) => said.push(l) }, principals);
  const call = (agent_id: string) =>
    decisions.govern({ agent_id, tool: 't/read', args: {}, principal: { tenant: 'x' } } as never, 't/read').then((r) => r.effect);
  try {
    for (let i = 0; i < 200; i++) assert.equal(await call(`invented-${i}`), 'PERMIT');
    assert.equal(await call('bot'), 'PERMIT');
    assert.equal(await call('bot'), 'PERMIT');
    // Only the declared agent is counted per agent; every call is still counted in the totals.
    assert.deepEqual([...decisions.countsByAgent.keys()], ['bot']);
    assert.deepEqual(decisions.countsByAgent.get('bot'), { permit: 2, deny: 0, defer: 0 });
    assert.equal(decisions.counts.permit, 202);
    // One note for all undeclared agents, one for the declared one.
    assert.equal(said.filter((l) => l.includes('principal claims')).length, 2);
  } finally {
    await log.close();
  }
});

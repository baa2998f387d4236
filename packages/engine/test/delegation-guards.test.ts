import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agent, outcome, policy, Session, T0 } from './support.js';

const WORKER = agent('  rules {\n    permit web/fetch\n  }', 'worker');
const grant = (lines: string) => agent(`  delegate {\n    target_agent = "worker"\n${lines}\n  }`, 'boss') + WORKER;

test('an operator approval lifts a defer ceiling, never a deny ceiling', () => {
  const s = new Session(policy(grant('    ceiling = "deny"')));
  const chain = [{ agent_id: 'boss', issued_at: new Date(T0).toISOString() }];
  const d = s.call({ tool: 'web/fetch', delegation_chain: chain }, 'worker', { approved: true });
  assert.equal(outcome(d), 'DENY/POLICY_DENY');
});

test('ceiling = "approval" caps a delegated permit at defer, as "defer" does', () => {
  const s = new Session(policy(grant('    ceiling = "approval"')));
  const chain = [{ agent_id: 'boss', issued_at: new Date(T0).toISOString() }];
  assert.equal(outcome(s.call({ tool: 'web/fetch', delegation_chain: chain }, 'worker')), 'DEFER/POLICY_DEFER');
});

test('under a grant with a ttl, a hop that carries no issued_at (or an unreadable one) has expired', () => {
  const s = new Session(policy(grant('    ttl = "10m"')));
  for (const hop of [{ agent_id: 'boss' }, { agent_id: 'boss', issued_at: 'yesterday' }]) {
    const d = s.call({ tool: 'web/fetch', delegation_chain: [hop] }, 'worker');
    assert.equal(d.effect, 'DENY', JSON.stringify(hop));
    assert.match(d.human_message!, /has expired/);
  }
});

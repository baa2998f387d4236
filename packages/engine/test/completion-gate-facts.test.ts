import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCompletion } from '../src/index.js';
import { agent, outcome, policy, Session } from './support.js';

// Each fact the gate requires blocks completion from its first instance: one pending approval,
// one approved write not yet run, one task still running, one daily cap reached.
const gated = policy(
  agent(
    '  rules {\n    permit x\n  }\n  completion_gate {\n    require "no_pending_approvals"\n    require "no_uncommitted_writes"\n    require "budget_under_limit"\n  }\n  budget session {\n    max $100\n    daily $10\n    on_exceed deny\n  }',
  ),
);
const complete = (s: Session, facts: { pending?: string[]; unrun?: string[]; openTasks?: string[] }) =>
  checkCompletion(
    gated.ir.agents[0]!,
    { agent_id: 'bot', tool: 'x', action: 'completion_event', session_id: 's1' },
    s.state,
    { pending: [], unrun: [], openTasks: [], ...facts },
    s.now,
  );

test('completion gate: a single pending approval, unrun write or open task blocks completion', () => {
  const s = new Session(gated);
  assert.equal(outcome(complete(s, {})), 'PERMIT');
  assert.equal(outcome(complete(s, { pending: ['a1'] })), 'DENY/COMPLETION_BLOCKED');
  assert.equal(outcome(complete(s, { unrun: ['a2'] })), 'DENY/COMPLETION_BLOCKED');
  assert.equal(outcome(complete(s, { openTasks: ['t1'] })), 'DENY/COMPLETION_BLOCKED');
});

test('completion gate: a session budget whose daily cap is reached blocks completion', () => {
  const s = new Session(gated);
  assert.equal(outcome(s.call({ tool: 'x', session_id: 's1', cost_usd: 10 })), 'PERMIT');
  const d = complete(s, {});
  assert.equal(outcome(d), 'DENY/COMPLETION_BLOCKED');
  assert.deepEqual(d.resolution, { type: 'budget_reset', resets_at: '2026-05-18T00:00:00Z' });
});

// An operator's approval turns a deferral into a permit; it never overrides a deny (a policy reloaded
// while the approval waited, or an approval sent for a call that was never deferred).
test('an approval does not permit a call the policy denies', () => {
  const s = new Session(policy(agent('  rules {\n    deny pay/refund\n    defer pay/charge\n  }')));
  assert.equal(outcome(s.call({ tool: 'pay/refund' }, 'bot', { approved: true })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'other' }, 'bot', { approved: true })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/charge' }, 'bot', { approved: true })), 'PERMIT');
});

/**
 * A phase's `tools` names what it governs (flows.md: a phased rollout "for a specific rule"). Its rules
 * decide calls to those tools alone: a broad `permit stripe/*` in a phase for `stripe/payouts` must
 * not permit every other Stripe tool while the phase runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayPermit, ruleOutcome } from '../src/index.js';
import { agent, policy, Session, T0 } from './support.js';

const p = policy(
  agent(
    [
      '  phase "audit-payouts" {\n    duration = "48h"\n    tools = ["stripe/payouts"]\n    rules {\n      permit stripe/*\n    }\n  }',
      '  rules {\n    permit stripe/charge\n    deny stripe/*\n  }',
    ].join('\n'),
  ),
);

test("a phase's rules decide only the tools it names", () => {
  const s = new Session(p);
  s.state.policy_applied_ms = T0;
  assert.equal(s.call({ tool: 'stripe/payouts' }).effect, 'PERMIT', 'the phase governs stripe/payouts');
  const refund = s.call({ tool: 'stripe/refund' });
  assert.equal(refund.effect, 'DENY', 'stripe/refund is outside the phase: the agent rules decide');
  assert.equal(refund.rule_ref, 'governance.fms:12');
  s.advance(48 * 3600);
  assert.equal(s.call({ tool: 'stripe/payouts' }).effect, 'DENY', 'after the phase, the agent rules decide');
});

test('replay and tools/list read the phase scope too', () => {
  assert.deepEqual(ruleOutcome(p, { agent_id: 'bot', tool: 'stripe/refund', time_ms: T0 }), {
    kind: 'decided',
    effect: 'DENY',
    rule_ref: 'governance.fms:12',
  });
  assert.equal(mayPermit(p, 'bot', 'stripe/refund'), false);
  assert.equal(mayPermit(p, 'bot', 'stripe/payouts'), true);
});

test('a phase without tools governs the tools of its rules', () => {
  const q = policy(
    agent('  phase "p" {\n    duration = "1h"\n    rules {\n      permit stripe/*\n    }\n  }\n  rules {\n    deny stripe/*\n  }'),
  );
  const s = new Session(q);
  s.state.policy_applied_ms = T0;
  assert.equal(s.call({ tool: 'stripe/refund' }).effect, 'PERMIT');
});

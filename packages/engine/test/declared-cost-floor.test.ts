import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callCost } from '../src/index.js';
import { agent, outcome, policy, Session } from './support.js';

// The agent is untrusted: what it reports may raise a call's cost above the policy's declaration, never lower it.
test('a call reporting less than the declared cost still spends the declared cost', () => {
  const s = new Session(policy(agent('  rules {\n    permit stripe/*\n  }\n  cost "stripe/*": $10\n  budget daily {\n    max $20\n  }')));
  for (let i = 0; i < 2; i++) assert.equal(s.call({ tool: 'stripe/charge', cost_usd: 1e-9 }).effect, 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'stripe/charge', cost_usd: 1e-9 })), 'DENY/BUDGET_EXCEEDED', '$20 spent at $10 a call');
  assert.equal(
    outcome(s.call({ tool: 'stripe/charge', usage: { model: 'gpt-4o-mini', input_tokens: 1, output_tokens: 1 } })),
    'DENY/BUDGET_EXCEEDED',
    'cheap model usage is no way under the declaration either',
  );
});

test('callCost: the larger of what the call reports and what the policy declares', () => {
  assert.equal(callCost({ agent_id: 'a', tool: 't', cost_usd: 0.5 }, 3), 3);
  assert.equal(callCost({ agent_id: 'a', tool: 't', cost_usd: 5 }, 3), 5);
  assert.equal(callCost({ agent_id: 'a', tool: 't', usage: { model: 'gpt-4o', input_tokens: 1_000_000 } }, 1), 2.5);
  assert.equal(callCost({ agent_id: 'a', tool: 't', usage: { model: 'gpt-4o', input_tokens: 1 } }, 1), 1);
  assert.equal(callCost({ agent_id: 'a', tool: 't' }), 0);
});

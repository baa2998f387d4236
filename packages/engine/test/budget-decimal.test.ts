import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

const budget = (lines: string) =>
  policy(
    agent(
      `  rules {\n    permit x\n  }\n  completion_gate {\n    require "budget_under_limit"\n  }\n  budget daily {\n    ${lines}\n    on_exceed deny\n  }`,
    ),
  );

test('spends that add up to the ceiling in dollars and cents fit it (no floating-point overshoot)', () => {
  for (const [max, cost, n] of [
    ['0.30', 0.1, 3],
    ['1', 0.05, 20],
    ['1', 0.03, 33],
    ['0.99', 0.03, 33],
  ] as const) {
    const s = new Session(budget(`max $${max}`));
    for (let i = 1; i <= n; i++) assert.equal(outcome(s.call({ tool: 'x', cost_usd: cost })), 'PERMIT', `$${max}: call ${i} of $${cost}`);
    if (max !== '1' || cost !== 0.03) assert.equal(outcome(s.call({ tool: 'x', cost_usd: 0.01 })), 'DENY/BUDGET_EXCEEDED');
  }
});

test('a budget spent to its ceiling in cents is used up for budget_under_limit', () => {
  const p = budget('max $0.30');
  const s = new Session(p);
  for (let i = 0; i < 3; i++) s.call({ tool: 'x', cost_usd: 0.1 });
  const d = s.complete();
  assert.equal(d.effect, 'DENY');
});

test('warn_at fires on the call that reaches the threshold in cents', () => {
  // $0.10 eight times sums to 0.7999999999999999: the 80% warning is due on the eighth call, not the ninth.
  const s = new Session(budget('max $1\n    warn_at 0.8'));
  const warned = Array.from({ length: 10 }, () => s.call({ tool: 'x', cost_usd: 0.1 }).signals.length);
  assert.deepEqual(warned, [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
});

test('a call refused because its cost would pass a ceiling not yet reached says so, with its cost', () => {
  const s = new Session(budget('max $10'));
  assert.equal(outcome(s.call({ tool: 'x', cost_usd: 6 })), 'PERMIT');
  const over = s.call({ tool: 'x', cost_usd: 6 });
  assert.equal(outcome(over), 'DENY/BUDGET_EXCEEDED');
  assert.match(over.human_message ?? '', /daily budget ceiling \(\$10\.00\) would be exceeded by this call's \$6\.00: \$6\.00 used/);
  // A cheaper call still fits: the ceiling was not reached.
  assert.equal(outcome(s.call({ tool: 'x', cost_usd: 4 })), 'PERMIT');
  assert.match(s.call({ tool: 'x', cost_usd: 1 }).human_message ?? '', /daily budget ceiling \(\$10\.00\) reached: \$10\.00 used/);
});

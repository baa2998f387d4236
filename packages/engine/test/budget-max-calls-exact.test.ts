import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, policy, Session } from './support.js';

test('a very large max_calls is still exact: the call past it is refused', () => {
  const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max_calls 3000000000\n    on_exceed deny\n  }')));
  s.state.budgets[`bot\u0000daily\u0000${new Date(s.now).toISOString().slice(0, 10)}`] = { spent_usd: 0, calls: 3_000_000_000 };
  assert.equal(s.call({ tool: 'x' }).code, 'BUDGET_EXCEEDED');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeltaOp } from '../src/index.js';
import { agent, policy, Session } from './support.js';

test('a spend near Number.MAX_VALUE keeps the counter finite, so its delta can be logged and replayed', () => {
  for (const body of ['max $100\n    on_exceed audit', 'max_calls 1000\n    on_exceed deny']) {
    const s = new Session(policy(agent(`  rules {\n    permit x\n  }\n  budget daily {\n    ${body}\n  }`)));
    for (let i = 0; i < 3; i++) {
      assert.equal(s.call({ tool: 'x', cost_usd: 1e308 }).effect, 'PERMIT');
      for (const [key, c] of Object.entries(s.state.budgets)) {
        assert.ok(Number.isFinite(c.spent_usd), `${JSON.stringify(key)} spent ${c.spent_usd}`);
        assert.ok(isDeltaOp({ kind: 'budget', key, ...c }));
      }
    }
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Decision } from '@faramesh/protocol';
import { agent, policy, Session } from './support.js';

const ALERT = '  alert {\n    on = "budget_warning"\n    notify = "slack://ops"\n  }\n';
const DAILY = '  budget daily {\n    max $10\n    warn_at 0.5\n    on_exceed deny\n  }\n';
const make = (other: string) => policy(agent(`  rules {\n    permit x\n  }\n${ALERT}${DAILY}${other}`));
/** [BUDGET_WARNING signals, budget_warning alerts] */
const warnings = (d: Decision) => [
  d.signals.filter((x) => x.code === 'BUDGET_WARNING').length,
  d.alerts.filter((a) => a.on === 'budget_warning').length,
];

test('a call deferred by another budget spends nothing and signals no warn_at crossing; its approved run does, once', () => {
  const s = new Session(make('  budget session {\n    max_calls 1\n    on_exceed defer\n  }'));
  assert.equal(s.call({ tool: 'x', cost_usd: 1, session_id: 'a' }).effect, 'PERMIT');
  for (let i = 0; i < 2; i++) {
    const d = s.call({ tool: 'x', cost_usd: 5, session_id: 'a' });
    assert.equal(d.effect, 'DEFER');
    assert.deepEqual(warnings(d), [0, 0]);
  }
  const run = s.call({ tool: 'x', cost_usd: 5, session_id: 'a' }, 'bot', { approved: true });
  assert.equal(run.effect, 'PERMIT');
  assert.deepEqual(warnings(run), [1, 1]);
});

test('a call denied by another budget signals no warn_at crossing; the call that spends does', () => {
  const s = new Session(make('  budget refunds {\n    max $5.5\n    on_exceed deny\n  }'));
  const denied = s.call({ tool: 'x', cost_usd: 6 });
  assert.equal(denied.code, 'BUDGET_EXCEEDED');
  assert.deepEqual(warnings(denied), [0, 0]);
  const ran = s.call({ tool: 'x', cost_usd: 5 });
  assert.equal(ran.effect, 'PERMIT');
  assert.deepEqual(warnings(ran), [1, 1]);
});

test('a day budget whose max and daily are one amount warns once per crossing, not once per cap', () => {
  const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max $10\n    daily $10\n    warn_at 0.5\n  }')));
  assert.equal(s.call({ tool: 'x', cost_usd: 6 }).signals.length, 1);
});

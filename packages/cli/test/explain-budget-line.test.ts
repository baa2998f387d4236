import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetLine } from '../src/commands/explain/agent.js';

test('explain agent: a budget line shows the share spent, and none for a $0 cap (no NaN%)', () => {
  const base = { agent: 'bot', id: 'daily', window: 'day' as const, period: '2026-11-24', calls: 2 };
  assert.equal(budgetLine({ ...base, spent_usd: 5, max_usd: 20 }), '$5.00 / $20 (25.0%) (2026-11-24)');
  assert.equal(budgetLine({ ...base, spent_usd: 0, max_usd: 0 }), '$0.00 / $0 (2026-11-24)');
});

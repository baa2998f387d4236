import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

const SESSION_WITH_DAILY = agent('  rules {\n    permit x\n  }\n  budget session {\n    max $10\n    daily $10\n    on_exceed deny\n  }');

test('a session budget whose own ceiling is reached has no resets_at, even when its daily cap is the same amount', () => {
  const s = new Session(policy(SESSION_WITH_DAILY));
  assert.equal(s.call({ tool: 'x', cost_usd: 6, session_id: 'a' }).effect, 'PERMIT');
  s.advance(86_400);
  // Today's spend is $5 of the $10 daily cap: only the session's $10 ceiling is broken, and it never resets.
  const d = s.call({ tool: 'x', cost_usd: 5, session_id: 'a' });
  assert.equal(d.code, 'BUDGET_EXCEEDED');
  assert.deepEqual(d.resolution, { type: 'budget_reset' });
});

test('the daily cap of a session budget still resets at the next UTC midnight', () => {
  const s = new Session(policy(SESSION_WITH_DAILY));
  assert.equal(s.call({ tool: 'x', cost_usd: 6, session_id: 'a' }).effect, 'PERMIT');
  const d = s.call({ tool: 'x', cost_usd: 5, session_id: 'b' });
  assert.equal(d.code, 'BUDGET_EXCEEDED');
  assert.deepEqual(d.resolution, { type: 'budget_reset', resets_at: '2026-05-18T00:00:00Z' });
});

test('budget_under_limit: a full session is not said to reset at midnight', () => {
  const p = policy(
    agent(
      '  rules {\n    permit x\n  }\n  completion_gate {\n    require "budget_under_limit"\n  }\n  budget session {\n    max $10\n    daily $10\n    on_exceed deny\n  }',
    ),
  );
  const s = new Session(p);
  s.call({ tool: 'x', cost_usd: 6, session_id: 'a' });
  s.advance(86_400);
  s.call({ tool: 'x', cost_usd: 4, session_id: 'a' });
  const d = s.complete('a');
  assert.equal(d.effect, 'DENY');
  assert.deepEqual(d.resolution, { type: 'budget_reset' });
});

test('budget_under_limit: a used-up session budget is a budget_reset without resets_at, not pending approvals', () => {
  const p = policy(
    agent(
      '  rules {\n    permit x\n  }\n  completion_gate {\n    require "budget_under_limit"\n  }\n  budget session {\n    max_calls 1\n    on_exceed deny\n  }',
    ),
  );
  const s = new Session(p);
  s.call({ tool: 'x', session_id: 'a' });
  const d = s.complete('a');
  assert.equal(d.code, 'COMPLETION_BLOCKED');
  assert.deepEqual(d.resolution, { type: 'budget_reset' });
});

test('a daily budget with both max and a lower daily cap stops at the lower one', () => {
  const s = new Session(
    policy(agent('  rules {\n    permit x\n  }\n  budget daily {\n    max $100\n    daily $10\n    on_exceed deny\n  }')),
  );
  assert.equal(outcome(s.call({ tool: 'x', cost_usd: 6 })), 'PERMIT');
  const d = s.call({ tool: 'x', cost_usd: 6 });
  assert.equal(outcome(d), 'DENY/BUDGET_EXCEEDED');
  assert.match(d.human_message ?? '', /\$10\.00/);
});

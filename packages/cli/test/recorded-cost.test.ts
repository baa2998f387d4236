import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appliedStack, RUNTIME } from './daemon-helpers.js';

const POLICY = `${RUNTIME}
agent "bot" {
  default deny
  rules {
    permit spend
    permit search
    deny   payout
  }
  cost "search": $0.5
  budget daily {
    max       $100
    on_exceed deny
  }
}
`;

test('what permitted calls cost is recorded: audit stats, explain run and the budget agree', async () => {
  const s = appliedStack(POLICY);
  try {
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'spend', args: {}, cost_usd: 2.25, request_id: 'r1' })).effect, 'PERMIT');
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'search', args: {}, request_id: 'r1' })).effect, 'PERMIT');
    // A denied call runs nowhere: it costs nothing.
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'payout', args: {}, cost_usd: 7, request_id: 'r1' })).effect, 'DENY');
    const status = JSON.parse(s.cli('status', '--format', 'json').stdout) as { budgets: { spent_usd: number }[] };
    assert.equal(status.budgets[0]!.spent_usd, 2.75);
    const stats = JSON.parse(s.cli('audit', 'stats', '--format', 'json').stdout) as { cost_usd: number };
    assert.equal(stats.cost_usd, 2.75, 'audit stats: the cost recorded');
    const run = JSON.parse(s.cli('explain', 'run', 'r1', '--format', 'json').stdout) as { total_cost_usd: number };
    assert.equal(run.total_cost_usd, 2.75, 'explain run: the total cost');
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

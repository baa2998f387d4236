/**
 * An approval binds the call's cost, so a call approved at one price cannot come back at another.
 * Model usage is priced by `usage.model`, else by the call's own `model`: that model is part of the
 * price, and a call approved as a cheap model's tokens must not run as a dear model's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionService } from './decision-service-fixture.js';

const POLICY = `agent "bot" {
  default deny
  rules {
    permit llm/*
  }
  budget daily {
    max $1
    on_exceed defer
  }
}
`;

test('an approval of usage priced by one model does not let the same usage run priced by another', async () => {
  const { log, state, approvals, decisions } = await decisionService(POLICY);
  const chat = (params: object) =>
    decisions.govern({ agent_id: 'bot', tool: 'llm/chat', args: { prompt: 'hi' }, ...params } as never, 'llm/chat');
  const spent = () => Object.values(state.budgets)[0]?.spent_usd;
  try {
    // The day's dollar is spent: the next call defers, whatever it costs.
    assert.equal((await chat({ args: { prompt: 'warm up' }, cost_usd: 1 })).effect, 'PERMIT');
    const tokens = { usage: { input_tokens: 1_000_000 } };
    const cheap = await chat({ model: 'gpt-5-nano', ...tokens });
    assert.deepEqual([cheap.effect, cheap.reason_code], ['DEFER', 'BUDGET_EXCEEDED']);
    assert.equal(approvals.get(cheap.defer_token!, Date.now())?.cost_usd, 0.05, 'the operator is shown the price');
    // The operator lets five cents through.
    approvals.resolve(cheap.defer_token!, 'approved', 'operator', '5 cents over is fine', Date.now());
    // The same tokens priced by o1-pro are $150: another call, which defers under an approval of its own.
    const dear = await chat({ model: 'o1-pro', ...tokens });
    assert.deepEqual([dear.effect, dear.reason_code], ['DEFER', 'BUDGET_EXCEEDED']);
    assert.notEqual(dear.defer_token, cheap.defer_token);
    assert.equal(spent(), 1, 'nothing of the dear call was spent');
    // The call approved runs as approved.
    assert.equal((await chat({ model: 'gpt-5-nano', ...tokens })).effect, 'PERMIT');
    assert.ok(Math.abs(spent()! - 1.05) < 1e-9, `spent ${spent()}`);
  } finally {
    await log.close();
  }
});

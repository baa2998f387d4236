import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeStack, RUNTIME } from './daemon-helpers.js';

test('explain decision and explain run never call a check that refused a call "the default effect"', async () => {
  const s = makeStack(`${RUNTIME}
agent "bot" {
  default permit
  rules {
    permit chat
  }
  model_policy {
    allow = ["gpt-4o"]
  }
}
`);
  try {
    assert.equal(s.cli('apply').code, 0);
    const chat = await s.govern({ agent_id: 'bot', tool: 'chat', model: 'claude-3', request_id: 'run-x' });
    assert.equal(chat.effect, 'DENY');
    const decision = s.cli('explain', 'decision', chat.action_id!);
    assert.equal(decision.code, 0, decision.stderr);
    assert.doesNotMatch(decision.stdout, /default effect/, 'the default of this agent permits');
    assert.match(decision.stdout, /Rule {7}\(no rule: the model policy check\)/);
    const run = s.cli('explain', 'run', 'run-x');
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /default effect/);
    assert.match(run.stdout, /MODEL_DENIED \(no rule: the model policy check\)/);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agent, outcome, policy, Session } from './support.js';

// A call that names its model only in its usage (no top-level `model`) is still held to model_policy:
// leaving `model` out must not be a way past an allow or deny list.
test('a model named only in usage is checked against model_policy', () => {
  const allow = policy(agent('  rules {\n    permit **\n  }\n  model_policy {\n    allow = ["claude-sonnet-4"]\n  }'));
  const deny = policy(agent('  rules {\n    permit **\n  }\n  model_policy {\n    deny = ["claude-opus-4"]\n  }'));
  for (const p of [allow, deny]) {
    const d = new Session(p).call({ tool: 'x', usage: { model: 'claude-opus-4', input_tokens: 1 } });
    assert.equal(outcome(d), 'DENY/MODEL_DENIED');
    assert.match(d.human_message ?? '', /model 'claude-opus-4' is not permitted/);
  }
  assert.equal(new Session(allow).call({ tool: 'x', usage: { model: 'claude-sonnet-4', input_tokens: 1 } }).effect, 'PERMIT');
});

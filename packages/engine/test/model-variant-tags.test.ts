import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// OpenRouter serves a model under `<vendor>/<model>:<variant>`: a deny of the model must not be
// passed by naming one of its variants, as it is not by naming one of its snapshots.
describe('model policy: variant tags', () => {
  const p = policy(
    agent(
      '  rules {\n    permit **\n  }\n  model_policy {\n    deny = ["claude-opus-4", "gpt-4o", "llama3:70b", "anthropic/claude-3-haiku"]\n  }',
    ),
  );
  const call = (model: string) => outcome(new Session(p).call({ tool: 'llm/chat', model }));

  for (const model of [
    'anthropic/claude-opus-4:thinking',
    'claude-opus-4-20250514:thinking',
    'openai/gpt-4o:free',
    'gpt-4o:online',
    'gpt-4o-2024-08-06:extended',
    'llama3:70b',
    'anthropic/claude-3-haiku:beta',
  ])
    test(`deny covers ${model}`, () => assert.equal(call(model), 'DENY/MODEL_DENIED'));

  for (const model of ['gpt-4o-mini:free', 'claude-opus-4-1:thinking', 'llama3:8b', 'gpt-4o:', 'gpt-4o::x'])
    test(`${model} is another model or no variant`, () => assert.equal(call(model), 'PERMIT'));

  test('a Bedrock version suffix still counts as a snapshot', () =>
    assert.equal(call('us.anthropic.claude-opus-4-20250514-v1:0'), 'DENY/MODEL_DENIED'));

  test('an allow entry admits its variants', () => {
    const allow = policy(agent('  rules {\n    permit **\n  }\n  model_policy {\n    allow = ["gpt-4o"]\n  }'));
    assert.equal(outcome(new Session(allow).call({ tool: 'llm/chat', model: 'openai/gpt-4o:free' })), 'PERMIT');
    assert.equal(outcome(new Session(allow).call({ tool: 'llm/chat', model: 'gpt-4o-mini:free' })), 'DENY/MODEL_DENIED');
  });
});

test('an entry with * covers snapshots and variants of the models it names', () => {
  const p = policy(agent('  rules {\n    permit **\n  }\n  model_policy {\n    deny = ["claude-*-4"]\n  }'));
  const call = (model: string) => outcome(new Session(p).call({ tool: 'llm/chat', model }));
  for (const model of ['claude-opus-4', 'claude-opus-4-20250514', 'claude-opus-4:thinking', 'anthropic/claude-sonnet-4-latest'])
    assert.equal(call(model), 'DENY/MODEL_DENIED', model);
  for (const model of ['claude-opus-4-5', 'claude-opus-4-1:thinking', 'gpt-4o']) assert.equal(call(model), 'PERMIT', model);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redact, REDACTED } from '../src/index.js';
import { agent, policy, Session } from './support.js';

// A dotted path names a value however its dots are split between keys: `config.api.key` is also
// `config: { "api.key" }` and `"config.api": { key }`. Only the fully nested and the fully literal
// spellings were masked, so the others reached the audit sinks in the clear.
test('a redact path is masked under any split of its dots into keys', () => {
  assert.deepEqual(redact({ config: { 'api.key': 's' } }, ['config.api.key']), { config: { 'api.key': REDACTED } });
  assert.deepEqual(redact({ 'config.api': { key: 's' } }, ['config.api.key']), { 'config.api': { key: REDACTED } });
  assert.deepEqual(redact({ files: [{ 'a.b': 's' }, { a: { b: 't' } }] }, ['files[*].a.b']), {
    files: [{ 'a.b': REDACTED }, { a: { b: REDACTED } }],
  });
  // The two spellings side by side are both masked; a key that is only a prefix is left alone.
  assert.deepEqual(redact({ config: { 'api.key': 's', api: { key: 't', other: 1 }, 'api.keys': 2 } }, ['config.api.key']), {
    config: { 'api.key': REDACTED, api: { key: REDACTED, other: 1 }, 'api.keys': 2 },
  });
});

test('the decision records the masked arguments', () => {
  const p = policy(agent('  rules {\n    permit **\n  }\n  redact deploy/run args: ["config.api.key"]'));
  const d = new Session(p).call({ tool: 'deploy/run', args: { config: { 'api.key': 'sk-live' } } });
  assert.deepEqual(d.redacted_args, { config: { 'api.key': REDACTED } });
});

test('a key one case or Unicode form from the path is masked too: the tool may read it as the field', () => {
  const out = redact({ Card_Number: '4111', card: { CVV: '123' }, note: 'ok' }, ['card_number', 'card.cvv']);
  assert.deepEqual(out, { Card_Number: REDACTED, card: { CVV: REDACTED }, note: 'ok' });
});

test('a path with `*` masks a literal dotted key its segments name', () => {
  // `config.*` names `config.api_key` however its dots are split: as a literal key, in any mix.
  assert.deepEqual(redact({ 'config.api_key': 's', 'config.x.y': 1, configs: 2 }, ['config.*']), {
    'config.api_key': REDACTED,
    'config.x.y': 1,
    configs: 2,
  });
  assert.deepEqual(redact({ a: { 'b.secret': 's', 'c.other': 1 } }, ['a.*.secret']), { a: { 'b.secret': REDACTED, 'c.other': 1 } });
  assert.deepEqual(redact({ 'Config.API_KEY': 's', 'config．token': 't' }, ['config.*']), {
    'Config.API_KEY': REDACTED,
    'config．token': REDACTED,
  });
  assert.deepEqual(redact({ 'items.0.card': 's' }, ['items[*].card']), { 'items.0.card': REDACTED });
});

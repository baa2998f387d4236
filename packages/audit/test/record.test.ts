import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionId, argsHash, GENESIS_HASH, recordBytes, recordHash, type DecisionRecord } from '../src/record.js';

const record = (over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  type: 'decision',
  schema: 'dpr/2.0',
  id: '01JD3Z5Q8X9K2M4N6P7R8S9T0V',
  time: '2026-11-22T05:00:00Z',
  seq: 7,
  lamport_seq: 3,
  agent_id: 'support-bot',
  tool: 'stripe/refund',
  action_type: 'tool_call',
  args_hash: argsHash({ amount: 80, card: { number: '[REDACTED]' } }),
  effect: 'permit',
  rule_ref: 'governance.fms:14',
  policy_version: 'ab'.repeat(32),
  prev_hash: GENESIS_HASH,
  ...over,
});

test('args_hash is over the canonical redacted tree: key order does not matter, values do', () => {
  assert.equal(argsHash({ a: 1, b: { c: 2, d: 3 } }), argsHash({ b: { d: 3, c: 2 }, a: 1 }));
  assert.notEqual(argsHash({ a: 1 }), argsHash({ a: 2 }));
  assert.match(argsHash(undefined), /^[0-9a-f]{64}$/);
});

test('canonical bytes are RFC 8785 JSON, and the record holds no argument values', () => {
  const bytes = recordBytes(record()).toString('utf8');
  assert.ok(bytes.startsWith('{"action_type":"tool_call","agent_id":"support-bot","args_hash":"'));
  assert.doesNotMatch(bytes, /REDACTED|"amount"|"card"/);
});

test('the record hash changes with any field, so the per-agent chain catches every edit', () => {
  const base = recordHash(record());
  for (const over of [
    { effect: 'deny' as const },
    { seq: 8 },
    { rule_ref: 'governance.fms:15' },
    { prev_hash: '1'.repeat(64) },
    { time: '2026-11-22T05:00:01Z' },
  ]) {
    assert.notEqual(recordHash(record(over)), base, JSON.stringify(over));
  }
  assert.equal(recordHash(record()), base, 'deterministic');
  assert.equal(actionId('01JD3Z'), 'action-01JD3Z');
});

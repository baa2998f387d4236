import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// A nested path that meets a value of another shape (a list where it reads a key, a string where it
// reads a field, one object where it reads an index) is not a missing field: the model sent the
// value, and a tool that takes either shape acts on it. A deny or defer reading it applies.
const p = policy(
  agent(`  rules {
    deny   pay/send  if payment.amount > 100
    permit pay/send
    defer  pay/batch if items.0.amount > 100
    permit pay/batch
    permit pay/small if payment.amount <= 100
    permit pay/nil   if payment.amount == nil
    deny   pay/need  if payment.amount == nil
    defer  pay/check if payment.amount != nil
    permit pay/need
    permit pay/check
  }`),
);

test('a deny or defer is not skipped by a nested value sent in another shape', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'pay/send', args: { payment: [{ amount: 9000 }] } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/send', args: { payment: '9000' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/send', args: { payment: 9000 } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/batch', args: { items: { amount: 9000 } } })), 'DEFER/POLICY_DEFER');
});

test('a nested value sent in another shape equals nothing, not even nil: a deny or defer comparing it with nil applies', () => {
  const s = new Session(p);
  // A missing amount is refused; sent as a string or a list, the payment still has no amount the rule can read.
  assert.equal(outcome(s.call({ tool: 'pay/need', args: { payment: {} } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/need', args: { payment: 'x' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/need', args: { payment: [{ amount: 5 }] } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/need', args: { payment: { amount: 5 } } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'pay/check', args: { payment: [{ amount: 5 }] } })), 'DEFER/POLICY_DEFER');
  assert.equal(outcome(s.call({ tool: 'pay/check', args: { payment: {} } })), 'PERMIT');
});

test('a missing or null field still falls through, and a permit needs the shape it reads', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'pay/send', args: {} })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'pay/send', args: { payment: null } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'pay/send', args: { payment: {} } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'pay/send', args: { payment: { amount: 50 } } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'pay/batch', args: { items: [] } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'pay/batch', args: { items: { 0: { amount: 50 } } } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'pay/small', args: { payment: [{ amount: 50 }] } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/nil', args: { payment: 'x' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/nil', args: { payment: {} } })), 'PERMIT');
});

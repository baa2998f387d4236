import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// Go's encoding/json (and other lenient decoders) give `{"Amount": 9999}` to a field tagged
// `amount`: the model must not carry a value past `deny … if amount > 500` by capitalising its name.
const p = policy(
  agent(`  rules {
    deny   pay/refund if amount > 500
    defer  pay/refund if payee.account != "acct_ok"
    permit pay/refund if amount <= 500
    permit pay/quote  if amount <= 500
  }`),
);

test('a field sent under another spelling of its name does not skip a deny or defer that reads it', () => {
  const s = new Session(p);
  for (const args of [{ Amount: 9999 }, { AMOUNT: 9999 }, { ａｍｏｕｎｔ: 9999 }])
    assert.equal(outcome(s.call({ tool: 'pay/refund', args: { ...args, payee: { account: 'acct_ok' } } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/refund', args: { amount: 1, payee: { Account: 'acct_evil' } } })), 'DEFER/POLICY_DEFER');
});

test('a field spelt otherwise grants no permit, and the exact spelling decides as before', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'pay/quote', args: { Amount: 1 } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'pay/refund', args: { amount: 1, payee: { account: 'acct_ok' } } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'pay/refund', args: { amount: 9999, payee: { account: 'acct_ok' } } })), 'DENY/POLICY_DENY');
  // A field that is simply absent still falls through.
  assert.equal(outcome(s.call({ tool: 'pay/quote', args: {} })), 'DENY/POLICY_DENY');
});

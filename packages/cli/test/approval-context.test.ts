import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context } from '../src/commands/daemon/approvals.js';

// The CONTEXT column of `approvals list` is what an operator approves by: an argument must not pass
// for another type, or for more arguments than the agent sent.
test('approvals list shows a string bare only when it could be read as nothing else', () => {
  assert.equal(context({ args: { to: 'alice', amount: 100 } }), 'to=alice amount=100');
  assert.equal(context({ args: { amount: '100' } }), 'amount="100"');
  assert.equal(context({ args: { to: 'alice amount=5' } }), 'to="alice amount=5"');
  assert.equal(context({ args: { flag: 'true', none: 'null' } }), 'flag="true" none="null"');
  assert.equal(context({ args: { 'a=b c': 1 } }), '"a=b c"=1');
  assert.equal(context({ args: { path: '/etc/hosts', user: 'ops@example.com' } }), 'path=/etc/hosts user=ops@example.com');
});

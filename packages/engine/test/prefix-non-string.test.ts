import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// `startsWith` and `endsWith` compare strings only: an argument sent as another type is not a
// string that fails the test but a value the tool may still act on (a list it joins, a number it
// formats), so the condition is unknown and the deny that reads it applies.
const p = policy(
  agent(`  rules {
    deny   fs/write if args.name startsWith "admin"
    deny   fs/write if args.file endsWith ".pem"
    permit fs/write
  }`),
);
const write = (args: Record<string, unknown>) => outcome(new Session(p).call({ tool: 'fs/write', args }));

test('a prefix or suffix test on an argument of another type applies the deny', () => {
  assert.equal(write({ name: ['admin', 'x'] }), 'DENY/POLICY_DENY');
  assert.equal(write({ name: 'guest', file: { path: 'key.pem' } }), 'DENY/POLICY_DENY');
  assert.equal(write({ name: 'guest', file: 'notes.md' }), 'PERMIT');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// A deny or defer with a host, method or path clause is not skipped because the model sent that
// argument as another type than a string, as a deny's condition is not (docs/engine.md).
const p = policy(
  agent(`  rules {
    deny   api/call host "metadata.google.internal"
    deny   api/call method DELETE
    defer  api/call path "/admin"
    permit api/call if path == "/ok"
    permit api/call method GET
  }`),
);

test('a deny clause is not skipped by an argument of another type', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'api/call', args: { host: ['metadata.google.internal'] } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { host: { name: 'metadata.google.internal' } } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { method: ['DELETE'] } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { path: ['/admin'] } })), 'DEFER/POLICY_DEFER');
});

test('strings, null and absent arguments decide as before; a permit clause must match', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'api/call', args: { host: 'metadata.google.internal' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { host: 'example.com', method: 'GET' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { method: 'GET', host: null } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { path: '/ok' } })), 'PERMIT');
  // A mistyped method never satisfies `permit api/call method GET`: default deny.
  const q = policy(agent(`  rules {\n    permit api/call method GET\n  }`));
  assert.equal(outcome(new Session(q).call({ tool: 'api/call', args: { method: ['GET'] } })), 'DENY/POLICY_DENY');
  // The proxy's own HTTP fields are what clauses read when present.
  assert.equal(
    outcome(s.call({ tool: 'api/call', args: { host: ['x'] }, http: { host: 'example.com', method: 'GET', path: '/' } })),
    'PERMIT',
  );
});

test('a deny clause on a mistyped argument applies whatever its condition cannot tell', () => {
  // The clause can neither match nor miss, and the condition reads a field the call did not send: the
  // deny is not skipped (only a condition known false skips it), so the permit below never runs it.
  const q = policy(
    agent(
      `  rules {\n    deny api/call method DELETE if reason != "cleanup"\n    deny api/call method PUT if force == true\n    permit api/call\n  }`,
    ),
  );
  const s = new Session(q);
  assert.equal(outcome(s.call({ tool: 'api/call', args: { method: ['DELETE'] } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { method: ['DELETE'], reason: 'cleanup' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { method: 'DELETE', reason: 'cleanup' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'api/call', args: { method: 'GET' } })), 'PERMIT');
});

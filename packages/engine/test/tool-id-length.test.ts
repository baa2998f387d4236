import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// The 1024-character bound holds for every tool id, plain ASCII ones included: those are checked
// on a fast path of their own, which must refuse what the full check refuses.
test('a tool id longer than 1024 characters is refused, however plain', () => {
  const s = new Session(policy(agent('  rules {\n    permit **\n  }')));
  const longest = `a/${'b'.repeat(1022)}`;
  assert.equal(outcome(s.call({ tool: longest })), 'PERMIT');
  const over = `${longest}c`;
  const d = s.call({ tool: over });
  assert.equal(outcome(d), 'DENY/POLICY_DENY');
  assert.match(d.human_message ?? '', /longer than 1024/);
  // Refused the same way when asked again (the slow check's answer is remembered).
  assert.equal(outcome(s.call({ tool: over })), 'DENY/POLICY_DENY');
});

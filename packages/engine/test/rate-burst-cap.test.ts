import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agent, outcome, policy, Session } from './support.js';

// A bucket refills up to its limit and no further: an agent idle for an hour must not bank an
// hour's tokens and spend them in one burst.
test('an idle bucket refills to its limit, never past it', () => {
  const s = new Session(policy(agent('  rules {\n    permit fs/*\n  }\n  rate_limit "fs/*": 2 per minute')));
  assert.equal(s.call({ tool: 'fs/read' }).effect, 'PERMIT');
  s.advance(3600);
  assert.equal(s.call({ tool: 'fs/read' }).effect, 'PERMIT');
  assert.equal(s.call({ tool: 'fs/read' }).effect, 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/read' })), 'DENY/RATE_EXCEEDED', 'the third call within the minute');
});

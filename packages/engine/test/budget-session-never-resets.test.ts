import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, policy, Session } from './support.js';

const GATE = '  completion_gate {\n    require "budget_under_limit"\n  }\n';
const SESSION = '  budget session {\n    max_calls 1\n    on_exceed deny\n  }\n';
const DAILY = '  budget daily {\n    max_calls 1\n    on_exceed deny\n  }\n';

for (const [name, order] of [
  ['session first', SESSION + DAILY],
  ['daily first', DAILY + SESSION],
] as const) {
  test(`completion: a full session budget beside a full daily one promises no midnight reset (${name})`, () => {
    const p = policy(agent(`  rules {\n    permit x\n  }\n${GATE}${order}`));
    const s = new Session(p);
    assert.equal(s.call({ tool: 'x', session_id: 'a' }).effect, 'PERMIT');
    const d = s.complete('a');
    assert.deepEqual(d.resolution, { type: 'budget_reset' });
  });
  test(`call: a full session budget beside a full daily one promises no midnight reset (${name})`, () => {
    const s = new Session(policy(agent(`  rules {\n    permit x\n  }\n${order}`)));
    assert.equal(s.call({ tool: 'x', session_id: 'a' }).effect, 'PERMIT');
    const d = s.call({ tool: 'x', session_id: 'a' });
    s.advance(86_400);
    assert.deepEqual(d.resolution, { type: 'budget_reset' });
  });
}

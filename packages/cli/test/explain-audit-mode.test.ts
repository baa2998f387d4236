/** `explain decision` on a deny recorded under `runtime { mode = "audit" }` says the call was not blocked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUNTIME, withStack } from './daemon-helpers.js';

const policy = `${RUNTIME.replace('runtime {', 'runtime {\n  mode = "audit"')}
agent "bot" {
  default deny
  rules {
    permit search
  }
}
`;

test('explain decision: an audit-mode deny is marked as not enforced, a permit is not', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    const denied = await s.govern({ agent_id: 'bot', tool: 'payout', args: {} });
    assert.equal(denied.effect, 'PERMIT', 'audit mode tells the agent PERMIT');
    const text = s.cli('explain', 'decision', denied.action_id!).stdout;
    assert.match(text, /^Effect +deny/m);
    assert.match(text, /^Enforced +no: runtime \{ mode = "audit" \}, the agent was told PERMIT and the call ran$/m);
    const permitted = await s.govern({ agent_id: 'bot', tool: 'search', args: {} });
    assert.doesNotMatch(s.cli('explain', 'decision', permitted.action_id!).stdout, /^Enforced/m);
  }, policy);
});

/**
 * `runtime { mode = "audit" }` lets through what the policy would refuse, but not an operator's
 * `faramesh agent quiesce`: that promises every call of the agent is denied, and an operator reaching
 * for it mid-incident must not find the agent still running because the stack is in audit mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionRecords, RUNTIME, withStack } from './daemon-helpers.js';

const policy = `${RUNTIME.replace('runtime {', 'runtime {\n  mode = "audit"\n  signing_warning_acknowledged = true')}
agent "bot" {
  default deny
  rules {
    permit search
  }
}
`;

test('audit mode: a quiesced agent is denied, and its record says it was enforced; resumed, audit mode lets calls through again', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'payout' })).effect, 'PERMIT', 'audit mode lets a policy deny through');
    assert.equal(s.cli('agent', 'quiesce', 'bot', '--reason', 'incident').code, 0);
    for (const tool of ['search', 'payout']) {
      const r = await s.govern({ agent_id: 'bot', tool });
      assert.equal(r.effect, 'DENY', `${tool}: a quiesced agent is denied in audit mode too`);
      assert.match(r.structured_denial?.human_message ?? '', /quiesced/);
    }
    const explained = JSON.parse(s.cli('explain', '--agent', 'bot', '--tool', 'search', '--format', 'json').stdout) as {
      policy: { note?: string };
    };
    assert.doesNotMatch(explained.policy.note ?? '', /a real call runs/, 'explain does not say a quiesced call would run');
    const quiesced = (await decisionRecords(s)).filter((r) => r.code === 'POLICY_DENY' && /quiesced/.test(JSON.stringify(r)));
    assert.equal(quiesced.length, 2);
    for (const r of quiesced) assert.equal(r.mode, undefined, 'enforced, so not marked as an audit-mode decision');
    assert.equal(s.cli('agent', 'resume', 'bot').code, 0);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'payout' })).effect, 'PERMIT');
  }, policy);
});

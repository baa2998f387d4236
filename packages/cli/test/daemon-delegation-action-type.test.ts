import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { makeStack, RUNTIME } from './daemon-helpers.js';

// The orchestrator may plan freely, but handing work to the writer needs a human, and the intern
// gets none. The writer may write only for work the orchestrator handed it.
const policy = `${RUNTIME}
agent "orchestrator" {
  default deny
  rules {
    permit task/plan
    defer  delegate/writer reason "handing work to the writer needs a human"
    deny   delegate/intern
  }
  delegate {
    to = ["writer", "intern"]
  }
}

agent "writer" {
  default deny
  rules {
    permit docs/write if delegation.chain contains "orchestrator"
  }
}

agent "intern" {
  default deny
  rules {
    permit docs/write
  }
}
`;

test('delegation: action_type "delegate" is decided as delegate/<target_agent>, so a permitted tool it names mints no token past the delegate rules', async () => {
  const s = makeStack(policy);
  try {
    assert.equal(s.cli('apply').code, 0);
    // The documented form, naming a tool the rules permit: the delegate/… rules still decide.
    const delegateTo = (target_agent: string) =>
      s.govern({ agent_id: 'orchestrator', tool: 'task', operation: 'plan', action_type: 'delegate', args: { target_agent } });
    for (const [target, effect] of [
      ['writer', 'DEFER'],
      ['intern', 'DENY'],
    ] as const) {
      const reply = await delegateTo(target);
      assert.equal(reply.effect, effect, JSON.stringify(reply));
      assert.equal(reply.delegation_token, undefined);
    }
    // A delegate action that names no target is no delegation the policy granted.
    const untargeted = await s.govern({ agent_id: 'orchestrator', tool: 'task', operation: 'plan', action_type: 'delegate', args: {} });
    assert.equal(untargeted.effect, 'DENY', JSON.stringify(untargeted));
    assert.equal(untargeted.delegation_token, undefined);
    // A plain task/plan is still permitted.
    assert.equal((await s.govern({ agent_id: 'orchestrator', tool: 'task', operation: 'plan', args: {} })).effect, 'PERMIT');
    assert.equal(s.cli('apply', '--stop').code, 0);
    // The log names the delegation, not the tool the call dressed it as.
    const delegations = readRecords(join(s.dir, 'wal'))
      .map((r) => r.record)
      .filter((r) => r.type === 'decision' && r.action_type === 'delegate')
      .map((r) => [r.tool, r.effect]);
    assert.deepEqual(delegations.slice(0, 2), [
      ['delegate/writer', 'defer'],
      ['delegate/intern', 'deny'],
    ]);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

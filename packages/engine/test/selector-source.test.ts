import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agent, outcome, policy, Session, T0 } from './support.js';

test("a cached selector value fetched from another source (before a swap changed it) is not the selector's: its fallback applies", () => {
  const p = policy(
    agent(
      '  selector "user_role" {\n    source = "https://idp/role"\n    on_unavailable = "defer"\n  }\n  rules {\n    permit pay if user_role == "ops"\n  }',
    ),
  );
  const s = new Session(p);
  s.state.selectors['bot\u0000user_role'] = { value: 'ops', fetched_ms: T0, source: 'https://old-idp/role' };
  const d = s.call({ tool: 'pay' });
  assert.equal(outcome(d), 'DEFER/POLICY_DEFER');
  assert.match(d.human_message ?? '', /selector 'user_role' is unavailable/);
  // The same value from the declared source is read.
  s.state.selectors['bot\u0000user_role'] = { value: 'ops', fetched_ms: T0, source: 'https://idp/role' };
  assert.equal(s.call({ tool: 'pay' }).effect, 'PERMIT');
});

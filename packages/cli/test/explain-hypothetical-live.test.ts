/**
 * `faramesh explain --agent --tool` answers for the policy in force: asked of the running daemon, on
 * its live rate and budget state; with no daemon, the policy last applied; `--unapplied` (or a stack
 * never applied) walks governance.fms as written. The output says which.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStack } from './daemon-helpers.js';

const policy = (search: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "bot" {
  default deny
  rules {
    ${search}
    permit admin if principal.role == "admin"
  }
  rate_limit "search": 1 per hour
}
`;

interface Explained {
  policy: { kind: string; policy_version?: string; note?: string };
  steps: { stage: string; detail: string }[];
  decision: { effect: string; code?: string; rule_ref?: string };
}

test('explain asks the running daemon (live limits, the policy in force); with none, the policy last applied; --unapplied the file', async () => {
  const s = makeStack(policy('permit search'));
  const explain = (...extra: string[]) => {
    const r = s.cli('explain', '--agent', 'bot', '--tool', 'search', '--format', 'json', ...extra);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Explained;
  };
  try {
    const never = explain();
    assert.equal(never.policy.kind, 'unapplied');
    assert.match(never.policy.note ?? '', /no policy has been applied/);

    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'search', args: {} })).effect, 'PERMIT');
    // The hour's one call is spent: the daemon's own state says so.
    const live = explain();
    assert.equal(live.policy.kind, 'running');
    assert.match(live.policy.policy_version ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual([live.decision.effect, live.decision.code], ['DENY', 'RATE_EXCEEDED']);
    const text = s.cli('explain', '--agent', 'bot', '--tool', 'search');
    assert.match(text.stdout, /policy:\s+in force \(asked of the running daemon\) [0-9a-f]{16}/);
    assert.match(text.stdout, /Effect:\s+DENY \(RATE_EXCEEDED\)/);

    // An edit not applied is not what calls are decided by.
    writeFileSync(join(s.dir, 'governance.fms'), policy('deny search'));
    assert.equal(explain().decision.code, 'RATE_EXCEEDED');
    const draft = explain('--unapplied');
    assert.equal(draft.policy.kind, 'unapplied');
    assert.deepEqual([draft.decision.effect, draft.decision.code], ['DENY', 'POLICY_DENY']);

    // Stated claims: this stack verifies no tokens and trusts no claims, so the daemon drops them.
    const admin = s.cli('explain', '--agent', 'bot', '--tool', 'admin', '--principal', '{"role":"admin"}', '--format', 'json');
    const dropped = JSON.parse(admin.stdout) as Explained;
    assert.equal(dropped.decision.effect, 'DENY');
    assert.ok(dropped.steps.some((st) => st.stage === 'principal' && /claims dropped/.test(st.detail)));
    assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'admin', args: {}, principal: { role: 'admin' } })).effect, 'DENY');

    // A refusal by the rate limit names its line: explain rule says what is there.
    const limited = await s.govern({ agent_id: 'bot', tool_id: 'search', args: {} });
    assert.equal(limited.reason_code, 'RATE_EXCEEDED');
    const ref = limited.structured_denial!.rule_ref!;
    const rule = s.cli('explain', 'rule', ref);
    assert.equal(rule.code, 0, rule.stderr);
    assert.match(rule.stdout, /rate limit of agent bot \(not a rule; decisions it refuses name it\)/);
    assert.match(rule.stdout, /text {5}rate_limit "search": 1 per hour/);
    const json = JSON.parse(s.cli('explain', 'rule', ref, '--format', 'json').stdout) as {
      declaration: { kind: string };
      last_24h: number;
    };
    assert.deepEqual([json.declaration.kind, json.last_24h], ['rate_limit', 1]);

    assert.equal(s.cli('apply', '--stop').code, 0);
    const stopped = explain();
    assert.equal(stopped.policy.kind, 'applied');
    assert.equal(stopped.policy.policy_version, live.policy.policy_version);
    assert.match(stopped.policy.note ?? '', /the daemon is not running: rate limits, budgets, phases and selectors are taken as fresh/);
    assert.equal(stopped.decision.effect, 'PERMIT', 'the applied policy, not the edit');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

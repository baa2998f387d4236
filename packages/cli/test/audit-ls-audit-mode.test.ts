/**
 * `audit ls`, `audit stats`, `explain run` and `explain rule` on decisions recorded under `runtime { mode = "audit" }`: a deny the
 * daemon let through must not read as a block (the call ran), as `tail` and `explain` already say.
 */
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

test('audit ls and stats: an audit-mode deny is marked as not enforced, a permit is not', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    const denied = await s.govern({ agent_id: 'bot', tool: 'payout', args: {}, request_id: 'run-a' });
    assert.equal(denied.effect, 'PERMIT', 'audit mode tells the agent PERMIT');
    const permitted = await s.govern({ agent_id: 'bot', tool: 'search', args: {}, request_id: 'run-a' });

    const text = s.cli('audit', 'ls').stdout;
    const row = (id: string) => text.split('\n').find((l) => l.includes(id)) ?? '';
    assert.match(row(denied.action_id!), /DENY +\(audit mode: not enforced, the call ran\) +POLICY_DENY/);
    assert.doesNotMatch(row(permitted.action_id!), /not enforced/);

    const json = JSON.parse(s.cli('audit', 'ls', '--format', 'json').stdout) as {
      decisions: { action_id: string; effect: string; enforced: boolean }[];
    };
    const of = (id: string) => json.decisions.find((d) => d.action_id === id);
    assert.deepEqual([of(denied.action_id!)?.effect, of(denied.action_id!)?.enforced], ['DENY', false]);
    assert.equal(of(permitted.action_id!)?.enforced, true);

    const stats = s.cli('audit', 'stats');
    assert.match(stats.stdout, /^not enforced \(runtime mode audit, the calls ran\): defer 0 · deny 1$/m);
    const counts = JSON.parse(s.cli('audit', 'stats', '--format', 'json').stdout) as { not_enforced: unknown };
    assert.deepEqual(counts.not_enforced, { defer: 0, deny: 1 });

    const run = s.cli('explain', 'run', 'run-a');
    assert.match(run.stdout, /deny +payout +\(audit mode: not enforced, the call ran\)/);
    assert.doesNotMatch(run.stdout.split('\n').find((l) => l.includes('search')) ?? '', /not enforced/);
    const steps = JSON.parse(s.cli('explain', 'run', 'run-a', '--format', 'json').stdout) as {
      decisions: { tool: string; enforced: boolean }[];
    };
    assert.deepEqual(
      steps.decisions.map((d) => [d.tool, d.enforced]),
      [
        ['payout', false],
        ['search', true],
      ],
    );

    const ref = /governance\.fms:\d+/.exec(s.cli('explain', 'decision', permitted.action_id!).stdout)![0];
    const rule = s.cli('explain', 'rule', ref).stdout;
    assert.match(rule, /mode = "audit": its denies and defers are recorded, not enforced/);
  }, policy);
});

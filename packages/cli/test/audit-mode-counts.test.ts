/**
 * Under `runtime { mode = "audit" }` a deny or defer is recorded as such but the call runs: `status`
 * and `/metrics` keep the recorded effects and say how many of them were not enforced, so neither
 * passes for a count of calls that were stopped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUNTIME, withStack } from './daemon-helpers.js';

const policy = (
  mode: string,
) => `${RUNTIME.replace('runtime {', `runtime {\n  mode = "${mode}"\n  http_listen = "127.0.0.1:0"\n  signing_warning_acknowledged = true`)}
agent "bot" {
  default deny
  rules {
    permit search
    defer  refund
  }
}
`;

test('status and metrics say how many audit-mode denials and deferrals were not enforced', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    for (const tool of ['search', 'payout', 'payout', 'refund']) assert.equal((await s.govern({ agent_id: 'bot', tool })).effect, 'PERMIT');
    const json = JSON.parse(s.cli('status', '--format', 'json').stdout) as {
      daemon: { http: string };
      decisions: Record<string, number>;
      decisions_not_enforced: Record<string, number>;
    };
    assert.deepEqual(json.decisions, { permit: 1, deny: 2, defer: 1 });
    assert.deepEqual(json.decisions_not_enforced, { deny: 2, defer: 1 });
    assert.match(
      s.cli('status').stdout,
      /permit 1 · defer 1 · deny 2\n {2}not enforced \(runtime mode audit, the calls ran\): defer 1 · deny 2\n/,
    );
    const metrics = await (await fetch(`${json.daemon.http}/metrics`)).text();
    assert.match(metrics, /^faramesh_decisions_total\{effect="deny"\} 2$/m);
    assert.match(metrics, /^faramesh_decisions_not_enforced_total\{effect="deny"\} 2$/m);
    assert.match(metrics, /^faramesh_decisions_not_enforced_total\{effect="defer"\} 1$/m);
  }, policy('audit'));
});

test('in enforce mode every deny is enforced: nothing is counted as not enforced', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'payout' })).effect, 'DENY');
    const json = JSON.parse(s.cli('status', '--format', 'json').stdout) as { decisions_not_enforced: Record<string, number> };
    assert.deepEqual(json.decisions_not_enforced, { deny: 0, defer: 0 });
    assert.doesNotMatch(s.cli('status').stdout, /not enforced/);
  }, policy('enforce'));
});

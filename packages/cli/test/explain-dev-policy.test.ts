import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { makeStack, until } from './daemon-helpers.js';

/**
 * The quickstart's loop (init, check, `faramesh dev`, an agent call denied, `faramesh explain`) on a
 * policy never applied: dev keeps no copy by version, so explain read the rule from nowhere and said
 * nothing of it, and `explain rule` counted none of its decisions.
 */
test('explain decision, approval and rule read a policy only ever tried in faramesh dev', async () => {
  const s = makeStack();
  const child: ChildProcess = s.spawnCli('dev', '--quiet');
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await until('dev to be ready', () => out.includes('Ctrl-C stops it'), 15_000);
    const payout = await s.govern({ agent_id: 'bot', tool: 'stripe/payouts', args: {} });
    const refund = await s.govern({ agent_id: 'bot', tool: 'stripe/refund', args: { amount: 7 } });
    assert.equal(payout.effect, 'DENY');
    assert.equal(refund.effect, 'DEFER');

    const decision = s.cli('explain', 'decision', payout.action_id!);
    assert.equal(decision.code, 0, decision.stderr);
    assert.match(decision.stdout, /Rule text {2}deny! {2}stripe\/payouts reason "platform team only"/);

    const approval = s.cli('explain', 'approval', refund.defer_token!);
    assert.equal(approval.code, 0, approval.stderr);
    assert.match(approval.stdout, /governance\.fms:\d+ +defer {2}stripe\/refund reason "refunds need a human" {2}→ match → DEFER/);

    const ref = /Rule {7}(governance\.fms:\d+)/.exec(decision.stdout)![1]!;
    const rule = s.cli('explain', 'rule', ref);
    assert.equal(rule.code, 0, rule.stderr);
    assert.match(rule.stdout, /matches {2}last 24h: 1 · last 7d: 1/);
    assert.doesNotMatch(rule.stdout, /not in the log/);
  } finally {
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    child.kill('SIGKILL');
  }
});

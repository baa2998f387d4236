import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeStack, POLICY } from './daemon-helpers.js';

test('explain decision|approval|agent|rule read the stack as it is, and change nothing', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    const payout = await s.govern({ agent_id: 'bot', tool: 'stripe/payouts', args: {} });
    const refund = await s.govern({ agent_id: 'bot', tool: 'stripe/refund', args: { amount: 7 } });
    await s.govern({ agent_id: 'bot', tool: 'ticket/read', args: {} });

    const decision = s.cli('explain', 'decision', payout.action_id!);
    assert.equal(decision.code, 0, decision.stderr);
    assert.match(decision.stdout, /Rule text {2}deny! {2}stripe\/payouts reason "platform team only"/);
    assert.equal(s.cli('explain', payout.action_id!).stdout, decision.stdout, 'an action id alone is a decision');
    const decisionJson = JSON.parse(s.cli('explain', 'decision', payout.action_id!, '--format', 'json').stdout) as { rule_text: string };
    assert.equal(decisionJson.rule_text, 'deny!  stripe/payouts reason "platform team only"', 'the JSON form carries the rule text too');

    const approval = s.cli('explain', 'approval', refund.defer_token!);
    assert.equal(approval.code, 0, approval.stderr);
    assert.match(approval.stdout, /status {6}PENDING/);
    assert.match(approval.stdout, /defer rule {2}governance\.fms:\d+ {3}\(defer {2}stripe\/refund reason "refunds need a human"\)/);
    assert.match(approval.stdout, /args {8}\{"amount":7\}/);
    assert.match(approval.stdout, /governance\.fms:\d+ +defer {2}stripe\/refund reason "refunds need a human" {2}→ match → DEFER/);
    assert.match(approval.stdout, new RegExp(`faramesh approvals approve ${refund.defer_token!} --reason`));
    const pendingJson = JSON.parse(s.cli('explain', 'approval', refund.defer_token!, '--format', 'json').stdout) as {
      approval: { status: string };
      rules: { result: string }[];
    };
    assert.equal(pendingJson.approval.status, 'pending', 'explaining resolves nothing');
    assert.equal(pendingJson.rules.at(-1)!.result, 'match → DEFER');

    const agent = s.cli('explain', 'agent', 'bot');
    assert.equal(agent.code, 0, agent.stderr);
    assert.match(agent.stdout, /state {5}active/);
    assert.match(agent.stdout, /Since the daemon started: 3 decisions \(1 permit, 1 defer, 1 deny\)/);
    assert.match(agent.stdout, /Pending approvals: 1/);
    assert.match(agent.stdout, / 1\. governance\.fms:\d+ +permit ticket\/read\n +2\. .*defer {2}stripe\/refund/);
    assert.match(agent.stdout, /Rate limits:\n {2}search +3\/minute/);
    const unknown = s.cli('explain', 'agent', 'nobody');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no agent 'nobody' in the policy in force \(agents: bot\)/);

    const ref = /Rule {7}(governance\.fms:\d+)/.exec(decision.stdout)![1]!;
    const rule = s.cli('explain', 'rule', ref);
    assert.equal(rule.code, 0, rule.stderr);
    assert.match(rule.stdout, /matches {2}last 24h: 1 · last 7d: 1/);
    assert.match(rule.stdout, new RegExp(`${payout.action_id!} {2}DENY {3}bot → stripe/payouts`));
    assert.match(rule.stdout, /since {4}\S+ \(policy [0-9a-f]{16}, 0 applies ago\)/);

    // The same rule one line lower in a new policy: its old decisions are not counted for the new line.
    writeFileSync(
      join(s.dir, 'governance.fms'),
      POLICY.replace('  rules {\n    permit ticket/read', '  rules {\n    permit ticket/list\n    permit ticket/read'),
    );
    assert.equal(s.cli('apply').code, 0);
    const moved = `governance.fms:${Number(ref.split(':')[1]) + 1}`;
    const after = JSON.parse(s.cli('explain', 'rule', moved, '--format', 'json').stdout) as {
      rules: { last_7d: number; since: { applies_ago: number } }[];
    };
    assert.equal(after.rules[0]!.last_7d, 0);
    assert.equal(after.rules[0]!.since.applies_ago, 0);
    const gone = s.cli('explain', 'rule', 'governance.fms:999');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no rule at governance\.fms:999 in the policy in force/);

    assert.equal(s.cli('explain', 'rule').code, 64, 'a kind without an id');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

test('explain --now refuses a date the calendar does not have (it is not rolled over to another day)', () => {
  const s = makeStack();
  try {
    for (const now of ['2026-02-30T10:00:00Z', '2026-04-30T24:00:00Z', 'yesterday']) {
      const r = s.cli('explain', '--unapplied', '--agent', 'bot', '--tool', 'ticket/read', '--now', now);
      assert.equal(r.code, 64, now);
      assert.match(r.stderr, /is not an RFC 3339 time/, now);
    }
    assert.equal(s.cli('explain', '--unapplied', '--agent', 'bot', '--tool', 'ticket/read', '--now', '2024-02-29T10:00:00+09:00').code, 0);
  } finally {
    s.stop();
  }
});

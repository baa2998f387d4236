import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords } from '@faramesh/audit';
import { alive, BIN, makeStack, POLICY, stackOnSmallDisk, until, type Stack } from './daemon-helpers.js';

/** Each test gets its own daemon; a failed test still kills it. */
async function withDaemon(f: (s: Stack) => Promise<void>, policy?: string): Promise<void> {
  const s = makeStack(policy);
  try {
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    await f(s);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
}

test("apply in enforce mode says when checkpoints are signed by the host's key, unless acknowledged or in audit mode", () => {
  for (const [runtime, warned] of [
    ['', true],
    ['  signing_warning_acknowledged = true', false],
    ['  mode = "audit"', false],
  ] as const) {
    const s = makeStack(POLICY.replace('runtime {', `runtime {\n${runtime}`));
    try {
      const r = s.cli('apply');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(/signed with this host's stack key: root on this host could re-sign/.test(r.stderr), warned, runtime);
    } finally {
      s.cli('apply', '--stop');
      s.stop();
    }
  }
});

const refund = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 120, order: 'A-1' } };

test('apply starts the daemon; permit, deny, defer → approve → the identical call runs once; status; verify; idempotent; --stop', async () => {
  await withDaemon(async (s) => {
    const status = JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { state: string; policy_version: string } };
    assert.equal(status.daemon.state, 'READY');
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: { id: 7 } })).effect, 'PERMIT');
    const denied = await s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} });
    assert.equal(denied.effect, 'DENY');
    assert.equal(denied.reason_code, 'POLICY_DENY');
    assert.equal(denied.structured_denial?.human_message, 'platform team only');
    assert.match(denied.action_id ?? '', /^action-[0-9A-Z]{26}$/);

    const deferred = await s.govern(refund);
    assert.equal(deferred.effect, 'DEFER');
    assert.equal(deferred.reason_code, 'POLICY_DEFER');
    const id = deferred.defer_token!;
    assert.match(id, /^apr-/);
    assert.deepEqual(deferred.structured_denial?.resolution, { type: 'pending_approval', approval_id: id });
    // Asking again while pending names the same approval.
    assert.equal((await s.govern(refund)).defer_token, id);
    const poll = (token: string) =>
      s.raw(JSON.stringify({ type: 'poll_defer', agent_id: 'bot', defer_token: token })).then((r) => JSON.parse(r) as { status: string });
    assert.equal((await poll(id)).status, 'pending');
    assert.equal(
      (
        await s
          .raw(JSON.stringify({ type: 'poll_defer', agent_id: 'someone-else', defer_token: id }))
          .then((r) => JSON.parse(r) as { status: string })
      ).status,
      'unknown',
    );

    const listed = JSON.parse(s.cli('approvals', 'list', '--json').stdout) as {
      approvals: { id: string; context?: string; action_id: string }[];
    };
    assert.deepEqual(
      listed.approvals.map((a) => [a.id, a.context, a.action_id]),
      [[id, 'refunds need a human', deferred.action_id]],
      'the action id as the agent was given it',
    );
    const since = (d: string) =>
      (JSON.parse(s.cli('approvals', 'list', '--since', d, '--json').stdout) as { approvals: unknown[] }).approvals;
    assert.equal(since('1h').length, 1);
    assert.equal(since('0s').length, 0, 'deferred before the window');
    const bad = s.cli('approvals', 'list', '--since', 'soon');
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /--since: 'soon' is not a duration/);
    const approved = s.cli('-q', 'approvals', 'approve', id, '--reason', 'customer verified');
    assert.deepEqual([approved.code, approved.stdout], [0, ''], approved.stderr);
    assert.equal((await poll(id)).status, 'approved');
    // A different call is not covered by the approval.
    assert.equal((await s.govern({ ...refund, args: { amount: 999, order: 'A-1' } })).effect, 'DEFER');
    const ran = await s.govern(refund);
    assert.equal(ran.effect, 'PERMIT');
    const again = await s.govern(refund);
    assert.equal(again.effect, 'DEFER', 'an approval is used once');
    assert.notEqual(again.defer_token, id);
    assert.equal(s.cli('approvals', 'approve', id).code, 1, 'a used approval cannot be approved again');

    // The operator's deny: the identical call is refused with the reason, once.
    const other = { ...refund, args: { amount: 5, order: 'B-2' } };
    const d2 = (await s.govern(other)).defer_token!;
    assert.equal(s.cli('approvals', 'deny', d2, '--reason', 'fraud suspected').code, 0);
    const refused = await s.govern(other);
    assert.equal(refused.effect, 'DENY');
    assert.match(refused.structured_denial?.human_message ?? '', /fraud suspected/);

    const st = JSON.parse(s.cli('status', '--format', 'json').stdout) as {
      decisions: Record<string, number>;
      approvals: { pending: number };
    };
    assert.equal(st.decisions.permit, 2);
    assert.equal(st.approvals.pending, 2);
    assert.match(s.cli('apply').stdout, /no changes/);

    // Every decision is in the log, with the approval that let the call run.
    const records = readRecords(join(s.dir, 'wal')).map((r) => r.record);
    const permitted = records.find((r) => r.type === 'decision' && `action-${String(r.id)}` === ran.action_id)!;
    assert.equal((permitted.approval as { id: string; reason: string }).id, id);
    assert.equal((permitted.approval as { reason: string }).reason, 'customer verified');
    assert.ok(records.some((r) => r.type === 'approval_resolved' && r.outcome === 'approved'));
    assert.ok(!JSON.stringify(records).includes('A-1'), 'argument values never reach the log');
    const pid = s.pid();
    // Its young generation is capped, which keeps resident memory under the 150 MB target (docs/daemon.md).
    assert.deepEqual(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1, 4), [
      '--max-semi-space-size=8',
      readFileSync(join(s.dir, '.faramesh', 'runtime', 'cli.path'), 'utf8').trim(),
      'serve',
    ]);
    const stopped = s.cli('apply', '--stop');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(!alive(pid));
    assert.ok(!existsSync(s.socket), 'the agent socket is removed');
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const last = readRecords(join(s.dir, 'wal'))
      .map((r) => r.record.type)
      .slice(-2);
    assert.deepEqual(last, ['daemon_stopped', 'checkpoint'], 'draining seals the log with a checkpoint');
  });
});

test('the agent socket cannot resolve approvals or control the daemon; the operator socket is 0600', async () => {
  await withDaemon(async (s) => {
    const id = (await s.govern(refund)).defer_token!;
    for (const line of [
      JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'approve_defer', params: { defer_token: id, approved: true } }),
      JSON.stringify({ type: 'approve_defer', defer_token: id, approved: true, approver_id: 'bot' }),
      JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'approvals.approve', params: { id, by: 'bot' } }),
      JSON.stringify({ method: 'approvals.approve', params: { id, by: 'bot' } }),
      JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'stop' }),
      JSON.stringify({ jsonrpc: '2.0', id: 12, method: 'apply' }),
    ]) {
      const reply = JSON.parse(await s.raw(line)) as { error?: unknown; result?: unknown };
      assert.ok(reply.error, `refused: ${line}`);
      assert.equal(reply.result, undefined);
    }
    assert.equal((await s.govern(refund)).effect, 'DEFER', 'still pending');
    assert.equal(JSON.parse(s.cli('status', '--format', 'json').stdout).daemon.state, 'READY');
    assert.equal(statSync(join(s.dir, '.faramesh', 'runtime', 'operator.sock')).mode & 0o777, 0o600);
  });
});

test('an agent deferring without end is refused past 100 waiting approvals, and the approval book stops growing', async () => {
  await withDaemon(async (s) => {
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await s.govern({ ...refund, args: { amount: 120, order: `B-${i}` } })).defer_token!);
    const book = join(s.dir, '.faramesh', 'state', 'approvals.json');
    const size = statSync(book).size;
    const over = await s.govern({ ...refund, args: { amount: 120, order: 'B-100' } });
    assert.equal(over.effect, 'DENY');
    assert.equal(over.reason_code, 'RATE_EXCEEDED');
    assert.match(over.structured_denial!.human_message, /agent bot cannot defer more: 100 approvals are already waiting/);
    assert.deepEqual(over.structured_denial!.resolution, { type: 'pending_approvals', approval_ids: ids.slice(0, 20) });
    assert.equal(statSync(book).size, size, 'nothing was written for the refused call');
    assert.equal(
      (await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect,
      'PERMIT',
      'the daemon serves on',
    );
    assert.equal(s.cli('approvals', 'approve', ids[0]!).code, 0);
    assert.equal((await s.govern({ ...refund, args: { amount: 120, order: 'B-100' } })).effect, 'DEFER', 'a resolution makes room');
  });
});

test('apply refuses a shared state or budget backend, fleet budgets, inherited budgets, federated trust or cost-http, which this build does not have, and changes nothing', () => {
  for (const [line, why] of [
    ['backend = "postgres"', /runtime\.backend = "postgres" is not available in this build/],
    ['postgres_url = "postgres://db/faramesh"', /runtime\.backend = "postgres" is not available/],
    [
      'budget_backend = "redis://budgets:6379"',
      /runtime\.budget_backend is not available in this build: each daemon enforces its budgets itself/,
    ],
  ] as const) {
    const s = makeStack(POLICY.replace('runtime {', `runtime {\n  ${line}`));
    try {
      const r = s.cli('apply');
      assert.equal(r.code, 1, line);
      assert.match(r.stderr, why);
      assert.equal(existsSync(join(s.dir, '.faramesh')), false, 'nothing was written');
    } finally {
      s.stop();
    }
  }
  // The same for what check warns this build cannot honour, written anywhere in the policy.
  const bot = 'agent "bot" {';
  for (const [from, to, why] of [
    [
      bot,
      `${bot}\n  delegate {\n    to = ["bot"]\n    inherits = ["budget.daily"]\n  }`,
      /delegate inherits is not available in this build/,
    ],
    [bot, `${bot}\n  budget {\n    id = "global"\n    usd = 1000\n    scope = "fleet"\n  }`, /budget 'global' .* is fleet-wide/],
    [
      'runtime {',
      'provider "quote" {\n  type = "cost-http"\n  url  = "https://cost.internal/quote"\n}\n\nruntime {',
      /cost-http is not available/,
    ],
    [
      'runtime {',
      'trust {\n  spiffe_federated "spiffe://partner.example" bundle_url = "https://partner.example/b"\n}\n\nruntime {',
      /spiffe_federated/,
    ],
  ] as const) {
    const s = makeStack(POLICY.replace(from, to));
    try {
      assert.match(s.cli('check').stderr, /not available in this build|fleet-wide/, 'check warns');
      const r = s.cli('apply');
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, why);
      assert.equal(existsSync(join(s.dir, '.faramesh')), false, 'nothing was written');
    } finally {
      s.stop();
    }
  }
  const local = makeStack(POLICY.replace('runtime {', 'runtime {\n  backend = "sqlite"'));
  try {
    assert.equal(local.cli('apply').code, 0, 'sqlite names the local default');
  } finally {
    local.cli('apply', '--stop');
    local.stop();
  }
});

test('malformed and hostile messages get a structured error, never a decision, and the daemon keeps serving', async () => {
  await withDaemon(async (s) => {
    const cases: [string, number][] = [
      ['not json at all', -32700],
      ['{"jsonrpc":"1.0","method":"govern"}', -32600],
      ['[1,2,3]', -32600],
      ['{"jsonrpc":"2.0","id":1,"method":"frobnicate","params":{}}', -32601],
      ['{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"bot","tool":"ticket","operation":"read","args":[1]}}', -32602],
      ['{"jsonrpc":"2.0","id":1,"method":"govern","params":{"tool":"ticket"}}', -32602],
      ['{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"bot"}}', -32602],
      [`{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"${'x'.repeat(300)}","tool":"ticket"}}`, -32602],
      // Refused before anything is decided, counted or fetched: a number read as Infinity, nesting past 64.
      ['{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"bot","tool":"search","args":{"n":1e400}}}', -32602],
      [
        `{"jsonrpc":"2.0","id":1,"method":"govern","params":{"agent_id":"bot","tool":"search","args":{"d":${'['.repeat(5000)}${']'.repeat(5000)}}}}`,
        -32602,
      ],
    ];
    for (const [line, code] of cases) {
      const reply = JSON.parse(await s.raw(line)) as { error?: { code: number; message: string } };
      assert.equal(reply.error?.code, code, `${line.slice(0, 60)} → ${JSON.stringify(reply)}`);
    }
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'govern',
      params: { agent_id: 'bot', tool: 'ticket', args: { blob: 'x'.repeat(1_200_000) } },
    });
    const reply = JSON.parse(await s.raw(huge)) as { error?: { message: string } };
    assert.match(reply.error?.message ?? '', /exceeds/);
    // An unknown agent or tool is a decision: denied, and recorded.
    assert.equal((await s.govern({ agent_id: 'nobody', tool: 'ticket', operation: 'read' })).effect, 'DENY');
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read' })).effect, 'PERMIT');
  });
});

test('load-once: editing governance.fms or SIGHUP changes nothing; only apply swaps the policy, recorded in the log', async () => {
  await withDaemon(async (s) => {
    const ticket = { agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} };
    const src = join(s.dir, 'governance.fms');
    writeFileSync(src, readFileSync(src, 'utf8').replace('permit ticket/read', 'deny ticket/read reason "closed"'));
    assert.equal((await s.govern(ticket)).effect, 'PERMIT');
    process.kill(s.pid(), 'SIGHUP');
    await until('the SIGHUP to be logged', () =>
      readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8').includes('SIGHUP ignored'),
    );
    assert.equal((await s.govern(ticket)).effect, 'PERMIT');
    const before = JSON.parse(s.cli('status', '--format', 'json').stdout).daemon.policy_version as string;
    const swapped = s.cli('apply');
    assert.equal(swapped.code, 0, swapped.stderr);
    assert.match(swapped.stdout, /hot-swapped/);
    const denied = await s.govern(ticket);
    assert.equal(denied.effect, 'DENY');
    assert.equal(denied.structured_denial?.human_message, 'closed');
    const versions = readRecords(join(s.dir, 'wal'))
      .map((r) => r.record)
      .filter((r) => r.type === 'policy_applied')
      .map((r) => r.policy_version);
    assert.equal(versions.length, 2);
    assert.equal(versions[0], before);
  });
});

test('a hot swap takes runtime { mode } with the policy; what the daemon takes only at start is refused, and the files it starts from stay', async () => {
  const s = makeStack(
    POLICY.replace('socket  = "./.faramesh/runtime/agent.sock"', 'socket  = "./.faramesh/runtime/agent.sock"\n  mode    = "audit"'),
  );
  try {
    assert.equal(s.cli('apply').code, 0);
    const payout = { agent_id: 'bot', tool: 'stripe', operation: 'payouts', args: {} };
    assert.equal((await s.govern(payout)).effect, 'PERMIT', 'audit mode permits what enforcement would deny');
    const src = join(s.dir, 'governance.fms');
    writeFileSync(src, readFileSync(src, 'utf8').replace('mode    = "audit"', 'mode    = "enforce"'));
    const swapped = s.cli('apply');
    assert.equal(swapped.code, 0, swapped.stderr);
    assert.match(swapped.stdout, /hot-swapped/);
    assert.equal((await s.govern(payout)).effect, 'DENY', 'enforced from the swap on, without a restart');
    const status = JSON.parse(s.cli('status', '--format', 'json').stdout) as { daemon: { runtime_mode: string; policy_version: string } };
    assert.equal(status.daemon.runtime_mode, 'enforce');

    // A new socket: the running daemon cannot move, so the swap is refused and nothing on disk changes.
    const compiled = join(s.dir, '.faramesh', 'governance.compiled.json');
    const agentEnv = join(s.dir, '.faramesh', 'runtime', 'agent.env');
    const before = [readFileSync(compiled, 'utf8'), readFileSync(agentEnv, 'utf8')];
    writeFileSync(src, readFileSync(src, 'utf8').replace('agent.sock"', 'agent2.sock"').replace('permit ticket/read', 'deny ticket/read'));
    const refused = s.cli('apply');
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /hot-swap refused: runtime\.socket changed, and the running daemon takes it only when it starts: run faramesh apply --stop, then faramesh apply/,
    );
    assert.deepEqual([readFileSync(compiled, 'utf8'), readFileSync(agentEnv, 'utf8')], before);
    assert.equal(
      (await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect,
      'PERMIT',
      'the old policy runs',
    );
    // Its next start takes the policy it runs, until the new one is applied with a restart.
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    assert.ok(existsSync(join(s.dir, '.faramesh', 'runtime', 'agent2.sock')));
  } finally {
    s.stop();
  }
});

test('an approved call spends its budget like any permit; a budget that denies still denies it; the approval binds the declared cost', async () => {
  const s = makeStack(
    POLICY.replace('  rate_limit "search"', '  budget daily {\n    max       $10\n    on_exceed deny\n  }\n  rate_limit "search"'),
  );
  try {
    assert.equal(s.cli('apply').code, 0);
    const refund = (amount: number, cost_usd: number) =>
      s.govern({ agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount }, cost_usd });
    const spent = () =>
      (JSON.parse(s.cli('status', '--format', 'json').stdout) as { budgets: { spent_usd: number; calls: number }[] }).budgets[0];
    const first = await refund(5, 6);
    assert.equal(first.effect, 'DEFER');
    assert.equal(spent()?.spent_usd, 0, 'a deferred call spends nothing');
    assert.equal(s.cli('approvals', 'approve', first.defer_token!).code, 0);
    assert.equal((await refund(5, 6)).effect, 'PERMIT');
    assert.deepEqual(spent(), { ...spent(), spent_usd: 6, calls: 1 });

    // Approved at one cost, the call cannot come back declaring another.
    const cheap = await refund(7, 1);
    assert.equal(s.cli('approvals', 'approve', cheap.defer_token!).code, 0);
    const dear = await refund(7, 1000);
    assert.equal(dear.effect, 'DEFER');
    assert.notEqual(dear.defer_token, cheap.defer_token);
    // The operator is shown the price approved.
    assert.match(s.cli('approvals', 'show', dear.defer_token!).stdout, /^Cost: +\$1000\.00 /m);
    assert.match(s.cli('approvals', 'show', cheap.defer_token!).stdout, /^Cost: +\$1\.00 /m);
    // Approved at its own cost, it still meets the budget that denies.
    assert.equal(s.cli('approvals', 'approve', dear.defer_token!).code, 0);
    const over = await refund(7, 1000);
    assert.deepEqual([over.effect, over.reason_code], ['DENY', 'BUDGET_EXCEEDED']);
    assert.equal((await refund(7, 1)).effect, 'PERMIT', 'the cheap approval still holds');
    assert.equal(spent()?.spent_usd, 7);
  } finally {
    s.stop();
  }
});

test('a log on a full disk: every call AUDIT_UNAVAILABLE, an approve is refused and taken back; with space back the daemon resumes by itself, and nothing acknowledged is lost nor anything refused recorded', async (t) => {
  const disk = stackOnSmallDisk(POLICY);
  if (!disk) return t.skip('mounting a tmpfs needs root');
  const { s, mount } = disk;
  try {
    assert.equal(s.cli('apply').code, 0);
    const refund = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 3 } };
    const deferred = await s.govern(refund);
    assert.equal(deferred.effect, 'DEFER');
    // Fill the disk; the segment's preallocated tail still takes records until it runs out.
    disk.fill();
    const acked: string[] = [];
    let refused: Awaited<ReturnType<Stack['govern']>> | undefined;
    for (let i = 0; i < 20_000 && !refused; i++) {
      const r = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
      if (r.reason_code === 'AUDIT_UNAVAILABLE') refused = r;
      else acked.push(r.action_id!);
    }
    assert.ok(refused, 'the log filled up');
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).reason_code, 'AUDIT_UNAVAILABLE');
    assert.equal(s.cli('status').code, 3, 'status says the log failed');
    const approve = s.cli('approvals', 'approve', deferred.defer_token!);
    assert.notEqual(approve.code, 0);
    assert.match(approve.stderr, /the audit log could not record it .*: apr-\S+ is still pending/);
    // Space comes back: the daemon resumes by itself, with the log cut back to what was acknowledged.
    rmSync(join(mount, 'filler'));
    let resumed: Awaited<ReturnType<Stack['govern']>> | undefined;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const r = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
      if (r.reason_code !== 'AUDIT_UNAVAILABLE') {
        resumed = r;
        break;
      }
    }
    assert.equal(resumed?.effect, 'PERMIT', 'deciding again without a restart');
    acked.push(resumed.action_id!);
    assert.equal(s.cli('status').code, 0, 'status is no longer DEGRADED');
    assert.match(readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8'), /audit log: writable again/);
    // A restart opens the log where it was.
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(refund)).effect, 'DEFER', 'the refused approve never took effect');
    assert.equal(s.cli('apply', '--stop').code, 0);
    const recorded = new Set(
      readRecords(join(mount, 'wal'))
        .map((r) => r.record)
        .filter((r) => r.type === 'decision')
        .map((r) => `action-${String(r.id)}`),
    );
    for (const a of acked) assert.ok(recorded.has(a), `acknowledged ${a} is in the log`);
    const reads = readRecords(join(mount, 'wal')).filter((r) => r.record.type === 'decision' && r.record.tool === 'ticket/read');
    assert.equal(reads.length, acked.length, 'no refused call left a record');
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
    disk.unmount();
  }
});

test('approvals that cannot be saved refuse that call only: the record says so, the daemon is not latched, the next save succeeds', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    // The book is written to a temp file and renamed: a directory in its place makes every save fail.
    const blocker = join(s.dir, '.faramesh', 'state', '.approvals.json.tmp');
    mkdirSync(blocker, { recursive: true });
    const refund = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 3 } };
    const refused = await s.govern(refund);
    assert.deepEqual([refused.effect, refused.reason_code], ['DENY', 'AUDIT_UNAVAILABLE']);
    assert.match(refused.structured_denial!.human_message, /the approvals could not be saved/);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect, 'PERMIT', 'not latched');
    assert.equal(s.cli('status', '-q').stdout.trim(), '0');
    rmSync(blocker, { recursive: true });
    const deferred = await s.govern(refund);
    assert.equal(deferred.effect, 'DEFER');
    // An operator's resolution that cannot be saved is refused and taken back: the approval still waits.
    mkdirSync(blocker);
    const unsaved = s.cli('approvals', 'approve', deferred.defer_token!);
    assert.notEqual(unsaved.code, 0);
    assert.match(unsaved.stderr, /the approvals could not be saved .*: apr-\S+ is still pending/);
    rmSync(blocker, { recursive: true });
    assert.equal((await s.govern(refund)).defer_token, deferred.defer_token, 'still the same pending approval');
    // An approved call refused because the book could not be saved keeps its approval for the retry.
    assert.equal(s.cli('approvals', 'approve', deferred.defer_token!).code, 0);
    mkdirSync(blocker);
    assert.equal((await s.govern(refund)).reason_code, 'AUDIT_UNAVAILABLE');
    rmSync(blocker, { recursive: true });
    const ran = await s.govern(refund);
    assert.equal(ran.effect, 'PERMIT');
    assert.equal(s.cli('apply', '--stop').code, 0);
    const refunds = readRecords(join(s.dir, 'wal'))
      .map((r) => r.record)
      .filter((r) => r.type === 'decision' && r.tool === 'stripe/refund')
      .map((r) => [r.effect, r.code]);
    assert.deepEqual(refunds, [
      ['deny', 'AUDIT_UNAVAILABLE'],
      ['defer', 'POLICY_DEFER'],
      ['defer', 'POLICY_DEFER'],
      ['deny', 'AUDIT_UNAVAILABLE'],
      ['permit', undefined],
    ]);
  } finally {
    s.stop();
  }
});

test('approvals that expire while the book cannot be saved expire all the same; the daemon stays up', async () => {
  const s = makeStack(
    POLICY.replace('socket  = "./.faramesh/runtime/agent.sock"', 'socket  = "./.faramesh/runtime/agent.sock"\n  approval_ttl = "1s"'),
  );
  try {
    assert.equal(s.cli('apply').code, 0);
    const refund = { agent_id: 'bot', tool: 'stripe', operation: 'refund', args: { amount: 3 } };
    const first = await s.govern(refund);
    const blocker = join(s.dir, '.faramesh', 'state', '.approvals.json.tmp');
    mkdirSync(blocker);
    await until('the daemon to say it could not save the expiry', () =>
      readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8').includes('could not save the approvals after expiring 1'),
    );
    assert.equal(s.cli('status', '-q').stdout.trim(), '0', 'still READY');
    rmSync(blocker, { recursive: true });
    const again = await s.govern(refund);
    assert.equal(again.effect, 'DEFER');
    assert.notEqual(again.defer_token, first.defer_token, 'the first one expired');
  } finally {
    s.stop();
  }
});

test('faramesh test: a fixture whose agent_id names no agent of the policy fails, saying so', () => {
  const s = makeStack();
  try {
    mkdirSync(join(s.dir, 'tests'));
    writeFileSync(
      join(s.dir, 'tests', 'typo.fmtest.json'),
      JSON.stringify({ agent_id: 'typo-bot', cases: [{ tool: 'stripe/payouts', expect: { effect: 'DENY', code: 'POLICY_DENY' } }] }),
    );
    const r = s.cli('test');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /✗ agent_id 'typo-bot' is not an agent of the policy \(bot\)/);
  } finally {
    s.stop();
  }
});

test('tampered compiled state is refused at load; a second daemon for the same stack is refused', async () => {
  await withDaemon(async (s) => {
    const pid = s.pid();
    const second = s.cli('serve');
    assert.equal(second.code, 1, 'the stack already has a daemon');
    assert.match(second.stderr, /in use|locked/);
    assert.equal(s.pid(), pid, "the refused daemon leaves the first one's pid file alone");
    assert.equal(JSON.parse(s.cli('status', '--format', 'json').stdout).daemon.state, 'READY', 'the first one is untouched');
    assert.equal(s.cli('apply', '--stop').code, 0);
    const compiled = join(s.dir, '.faramesh', 'governance.compiled.json');
    const original = readFileSync(compiled, 'utf8');
    writeFileSync(compiled, original.replace('platform team only', 'platform team onlx'));
    let r = s.cli('serve');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /changed after it was signed/);
    assert.ok(!existsSync(s.socket), 'no agent socket was opened');
    // A compiled policy signed by another key (a forged signature file) is refused too.
    writeFileSync(compiled, original);
    const sig = join(s.dir, '.faramesh', 'governance.compiled.sig');
    writeFileSync(
      sig,
      readFileSync(sig, 'utf8').replace(
        /— (\S+) (\S+)/,
        (_m, name: string, b64: string) => `— ${name} ${b64.slice(0, 10)}A${b64.slice(11)}`,
      ),
    );
    r = s.cli('serve');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /signature/);
  });
});

test('completion_gate: completing with approvals pending, an approved call not yet run, or a budget used up is COMPLETION_BLOCKED', async () => {
  const policy = `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "bot" {
  default deny
  rules {
    permit search
    defer  stripe/refund reason "refunds need a human"
  }
  budget daily {
    max_calls 3
    max $10
    warn_at 0.5
  }
  completion_gate {
    require "no_pending_approvals"
    require "no_uncommitted_writes"
    require "budget_under_limit"
  }
}

agent "free" {
  default deny
  rules {
    permit search
  }
}
`;
  await withDaemon(async (s) => {
    const complete = (agent = 'bot') => s.govern({ agent_id: agent, action_type: 'completion_event', args: {} });
    assert.equal((await complete()).effect, 'PERMIT', 'nothing open: the task may complete');
    const first = (await s.govern(refund)).defer_token!;
    const second = (await s.govern({ ...refund, args: { amount: 7, order: 'B-2' } })).defer_token!;
    let r = await complete();
    assert.equal(r.effect, 'DENY');
    assert.equal(r.reason_code, 'COMPLETION_BLOCKED');
    assert.equal(r.structured_denial!.human_message, 'agent cannot complete: 2 approvals pending');
    assert.deepEqual(r.structured_denial!.resolution, { type: 'pending_approvals', approval_ids: [first, second] });
    assert.match(String(r.structured_denial!.rule_ref), /^governance\.fms:\d+$/);
    // Approved but not yet run: still open work.
    assert.equal(s.cli('approvals', 'approve', first).code, 0);
    assert.equal(s.cli('approvals', 'deny', second).code, 0);
    r = await complete();
    assert.equal(r.structured_denial!.human_message, 'agent cannot complete: 1 approved call not yet run');
    assert.deepEqual(r.structured_denial!.resolution, { type: 'pending_approvals', approval_ids: [first] });
    assert.equal((await s.govern(refund)).effect, 'PERMIT');
    // The denied one was refused when retried; nothing is left open.
    assert.equal((await s.govern({ ...refund, args: { amount: 7, order: 'B-2' } })).effect, 'DENY');
    assert.equal((await complete()).effect, 'PERMIT');
    // The approved refund ran as a permit, so it counts: two searches use up the daily budget of three
    // calls. Each crosses half of one meter (calls, then dollars): the agent is warned once per meter,
    // and the call still runs.
    const spent = [];
    for (let i = 0; i < 2; i++) spent.push(await s.govern({ agent_id: 'bot', tool: 'search', args: { q: String(i) }, cost_usd: 4.5 }));
    assert.deepEqual(
      spent.map((x) => [x.effect, (x.signals as { human_message: string }[] | undefined)?.map((g) => g.human_message)]),
      [
        ['PERMIT', ['budget 50% consumed (2 calls/3 calls daily)']],
        ['PERMIT', ['budget 50% consumed ($9.00/$10.00 daily)']],
      ],
    );
    r = await complete();
    assert.equal(r.effect, 'DENY');
    assert.match(r.structured_denial!.human_message, /^agent cannot complete: budget daily is used up/);
    assert.equal(r.structured_denial!.resolution.type, 'budget_reset');
    // status reports what each budget has consumed in its period.
    const { budgets } = JSON.parse(s.cli('status', '--format', 'json').stdout) as {
      budgets: { agent: string; id: string; window: string; calls: number; max_calls: number; period: string }[];
    };
    assert.deepEqual(
      budgets.map((b) => [b.agent, b.id, b.window, b.calls, b.max_calls, b.period]),
      [['bot', 'daily', 'day', 3, 3, new Date().toISOString().slice(0, 10)]],
    );
    assert.match(s.cli('status').stdout, /Budgets\n {2}daily \(bot\) +\$9\.00 \/ \$10\.00 {2}\(90\.0%\) {2}3 \/ 3 calls {2}today/);
    // An agent without a gate completes freely; every completion is a recorded decision.
    assert.equal((await complete('free')).effect, 'PERMIT');
    assert.equal(s.cli('apply', '--stop').code, 0);
    const completions = readRecords(join(s.dir, 'wal'))
      .map((x) => x.record)
      .filter((x) => x.type === 'decision' && x.action_type === 'completion_event');
    assert.deepEqual(
      completions.map((x) => [x.agent_id, x.effect, x.code ?? null]),
      [
        ['bot', 'permit', null],
        ['bot', 'deny', 'COMPLETION_BLOCKED'],
        ['bot', 'deny', 'COMPLETION_BLOCKED'],
        ['bot', 'permit', null],
        ['bot', 'deny', 'COMPLETION_BLOCKED'],
        ['free', 'permit', null],
      ],
    );
  }, policy);
});

test('agent quiesce denies every call until resume, across a restart; rollback re-applies an earlier signed version', async () => {
  await withDaemon(async (s) => {
    const read = { agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} };
    assert.equal((await s.govern(read)).effect, 'PERMIT');
    assert.equal(s.cli('agent', 'quiesce', 'nobody').code, 4);
    assert.equal(s.cli('agent', 'quiesce', 'bot', '--reason', 'incident 42').code, 0);
    const r = await s.govern(read);
    assert.equal(r.effect, 'DENY');
    assert.equal(r.reason_code, 'POLICY_DENY');
    assert.match(r.structured_denial!.human_message, /quiesced by the operator/);
    const listed = JSON.parse(s.cli('agent', 'list', '--format', 'json').stdout) as {
      agents: { id: string; state: string; decisions: { deny: number } }[];
    };
    assert.deepEqual(
      listed.agents.map((a) => [a.id, a.state, a.decisions.deny]),
      [['bot', 'quiesced', 1]],
    );
    assert.match(s.cli('agent', 'show', 'bot').stdout, /state: +quiesced \(by .* incident 42\)/);
    // The standing survives a restart.
    assert.equal(s.cli('apply', '--stop').code, 0);
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(read)).effect, 'DENY');
    assert.equal(s.cli('agent', 'resume', 'bot').code, 0);
    assert.equal((await s.govern(read)).effect, 'PERMIT');

    // Rollback: a second policy, then back to the first, then forward again by number.
    const src = join(s.dir, 'governance.fms');
    writeFileSync(src, readFileSync(src, 'utf8').replace('permit ticket/read', 'deny ticket/read reason "frozen"'));
    assert.equal(s.cli('apply').code, 0);
    assert.equal((await s.govern(read)).effect, 'DENY');
    const back = s.cli('rollback');
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /policy rolled back/);
    assert.equal((await s.govern(read)).effect, 'PERMIT');
    const list = s.cli('rollback', '--list').stdout;
    assert.match(list, /^v1 .*\nv2 .*\nv3 .*\(rollback by .*\)\ncurrent: /);
    const history = JSON.parse(s.cli('rollback', '--list', '--format', 'json').stdout) as {
      current: string;
      versions: { n: string; version: string; applied_at: string; source: string; by?: string }[];
    };
    assert.deepEqual(
      history.versions.map((v) => [v.n, v.version.length, !!v.by]),
      [
        ['v1', 64, false],
        ['v2', 64, false],
        ['v3', 64, true],
      ],
    );
    assert.equal(history.current, history.versions[2]!.version);
    assert.equal(history.versions[2]!.version, history.versions[0]!.version, 'v3 re-applied v1');
    const forward = JSON.parse(s.cli('rollback', '--to', 'v2', '--format', 'json').stdout) as object;
    assert.deepEqual(forward, { changed: true, policy_version: history.versions[1]!.version, from: history.current });
    const again = s.cli('rollback', '--to', 'v2', '--format', 'json');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { ...forward, changed: false, from: history.versions[1]!.version });
    assert.equal((await s.govern(read)).effect, 'DENY');
    const none = s.cli('rollback', '--to', 'v9');
    assert.equal(none.code, 4, none.stderr);
    assert.equal(s.cli('rollback', '--to', 'not-a-version').code, 1);
    // A tampered kept copy is refused, and the policy in force stays.
    // The history is a sealed state file: its content is the body.
    const sealed = JSON.parse(readFileSync(join(s.dir, '.faramesh', 'state', 'policy-history.json'), 'utf8')) as { body: string };
    const v1 = (JSON.parse(sealed.body) as { versions: { version: string }[] }).versions[0]!.version;
    const kept = join(s.dir, '.faramesh', 'versions', `${v1}.json`);
    writeFileSync(kept, readFileSync(kept, 'utf8').replace('ticket/read', 'ticket/reax'));
    const refused = s.cli('rollback', '--to', 'v1');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /changed after it was signed/);
    assert.equal((await s.govern(read)).effect, 'DENY');
    // Another signed version put in place of v1's copy is refused too: rollback --to v1 never installs v2.
    const v2 = (JSON.parse(sealed.body) as { versions: { version: string }[] }).versions[1]!.version;
    for (const ext of ['json', 'sig'])
      writeFileSync(
        join(s.dir, '.faramesh', 'versions', `${v1}.${ext}`),
        readFileSync(join(s.dir, '.faramesh', 'versions', `${v2}.${ext}`)),
      );
    writeFileSync(src, readFileSync(src, 'utf8').replace('deny ticket/read reason "frozen"', 'deny ticket/read reason "frozen again"'));
    assert.equal(s.cli('apply').code, 0);
    const swapped = s.cli('rollback', '--to', 'v1', '--format', 'json');
    assert.equal(swapped.code, 1, swapped.stdout);
    assert.match(swapped.stderr, /holds policy .* instead: refused/);
    assert.notEqual(JSON.parse(s.cli('rollback', '--list', '--format', 'json').stdout).current, v2);
    assert.equal(s.cli('apply', '--stop').code, 0);
    const verified = s.cli('audit', 'verify');
    assert.equal(verified.code, 0, verified.stdout);
    const kinds = readRecords(join(s.dir, 'wal')).map((x) => x.record.type);
    assert.ok(kinds.includes('agent_quiesced') && kinds.includes('agent_resumed'));
  });
});

test('destroy stops the daemon and removes what apply made; --keep-wal keeps a verifiable log; governance.fms stays', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    const pid = s.pid();
    assert.equal(s.cli('destroy').code, 1, 'not at a terminal: --yes is required');
    assert.ok(alive(pid), 'nothing was touched');
    const kept = s.cli('destroy', '--yes', '--keep-wal');
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, new RegExp(`daemon stopped \\(pid ${pid}\\)`));
    assert.match(kept.stdout, /WAL kept at .*wal \(\d+ records\) preserved for audit/);
    assert.ok(!alive(pid));
    assert.ok(existsSync(join(s.dir, 'governance.fms')));
    for (const gone of ['runtime', 'governance.compiled.json', 'bin', 'state', 'versions'])
      assert.ok(!existsSync(join(s.dir, '.faramesh', gone)), `${gone} removed`);
    assert.equal(s.cli('audit', 'verify').code, 0, 'the kept log still verifies against the kept key');
    // Again, everything: the log and keys go too.
    assert.equal(s.cli('apply').code, 0);
    const all = s.cli('destroy', '--yes');
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /WAL removed \(\d+ records\)/);
    assert.ok(!existsSync(join(s.dir, 'wal')));
    assert.ok(!existsSync(join(s.dir, '.faramesh', 'keys')));
    assert.match(all.stdout, /stack keys removed: an earlier audit export verifies now only if it was an evidence bundle/);
    assert.doesNotMatch(kept.stdout, /stack keys removed/, 'a kept log keeps its keys');
    assert.equal(s.cli('status', '-q').stdout.trim(), '1');
  } finally {
    s.stop();
  }
});

test('destroy removes nothing outside the stack directory, and in it only the log’s own files', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'fm-outside-wal-'));
  writeFileSync(join(outside, 'precious.txt'), 'keep me');
  const s = makeStack(POLICY.replace('wal_dir = "./wal"', `wal_dir = "${outside}"`));
  try {
    assert.equal(s.cli('apply').code, 0);
    await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    const r = s.cli('destroy', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /WAL kept at .*fm-outside-wal-\w+ \(\d+ records\): it is outside the stack directory/);
    assert.equal(readFileSync(join(outside, 'precious.txt'), 'utf8'), 'keep me');
    assert.ok(
      readdirSync(outside).some((f) => f.endsWith('.wal')),
      'the log is still there',
    );
    assert.ok(existsSync(join(s.dir, '.faramesh', 'keys')), 'and the keys that verify it');
    assert.equal(s.cli('audit', 'verify', '--dir', outside).code, 0);
  } finally {
    s.stop();
  }
  // Inside the stack, a directory shared with other files keeps them (and itself).
  const t = makeStack();
  try {
    assert.equal(t.cli('apply').code, 0);
    writeFileSync(join(t.dir, 'wal', 'notes.txt'), 'mine');
    const r = t.cli('destroy', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /WAL removed/);
    assert.match(r.stdout, /wal kept: it also holds 1 file\(s\) that are not the log's/);
    assert.deepEqual(readdirSync(join(t.dir, 'wal')), ['notes.txt']);
  } finally {
    t.stop();
  }
  // A kept log inside a directory destroy would remove keeps that directory.
  const u = makeStack(POLICY.replace('wal_dir = "./wal"', 'wal_dir = "./.faramesh/state/wal"'));
  try {
    assert.equal(u.cli('apply').code, 0);
    await u.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    const r = u.cli('destroy', '--yes', '--keep-wal');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\.faramesh\/state kept: it holds the kept log/);
    assert.equal(u.cli('audit', 'verify', '--dir', join(u.dir, '.faramesh', 'state', 'wal')).code, 0);
  } finally {
    u.stop();
  }
});

test('a completion event is never handed a credential, whatever tool it names', async () => {
  const s = makeStack(POLICY.replace('  rate_limit "search"', '  credential "gw" {\n    tools = ["**"]\n  }\n  rate_limit "search"'));
  try {
    assert.equal(s.cli('apply').code, 0);
    const read = await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    assert.equal((read.credential as { value: string } | undefined)?.value, 'Bearer STUB-gw', 'a permitted tool call gets it');
    for (const named of [{}, { tool: 'stripe', operation: 'payouts' }]) {
      const done = await s.govern({ agent_id: 'bot', action_type: 'completion_event', args: {}, ...named });
      assert.equal(done.effect, 'PERMIT');
      assert.equal(done.credential, undefined);
    }
  } finally {
    s.stop();
  }
});

test('approvals list, show and explain approval print what the agent sent escaped: no escape sequence or forged line', async () => {
  await withDaemon(async (s) => {
    const hostile = '\u001b]0;PWNED\u0007\u001b[2J\nAPPROVED by alice';
    const deferred = await s.govern({ ...refund, args: { amount: 120, order: hostile } });
    assert.equal(deferred.effect, 'DEFER');
    for (const args of [
      ['approvals', 'list'],
      ['approvals', 'show', deferred.defer_token!],
      ['explain', 'approval', deferred.defer_token!],
    ]) {
      const r = s.cli(...args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, `${args.join(' ')} printed a control character`);
      assert.doesNotMatch(r.stdout, /\nAPPROVED by alice/, `${args.join(' ')} let the agent forge a line`);
    }
  });
});

test("a hot swap refused for an env() the daemon lacks says so when it is set in the operator's shell, and how to restart", async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    writeFileSync(
      join(s.dir, 'governance.fms'),
      `${POLICY}\nprovider "splunk" {\n  type  = "splunk-sink"\n  url   = env("FM_GUIDE_SPLUNK_URL")\n  token = "t"\n}\n`,
    );
    const r = spawnSync(process.execPath, [BIN, 'apply', '--dir', s.dir], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', HOME: s.dir, FM_GUIDE_SPLUNK_URL: 'http://127.0.0.1:9/' },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /environment variable FM_GUIDE_SPLUNK_URL is not set/);
    assert.match(
      r.stderr,
      /FM_GUIDE_SPLUNK_URL is set in this shell, but the running daemon reads env\(\) from the environment it started with/,
    );
    assert.match(r.stderr, /faramesh apply --stop, then faramesh apply/);
  } finally {
    s.stop();
  }
});

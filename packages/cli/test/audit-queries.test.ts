/**
 * Reading the log by task and by window, over a real daemon: request_id and session_id in the
 * records, `audit trace`, `explain run`, `audit ls` and `audit stats`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeStack } from './daemon-helpers.js';

test('a task’s calls share a request_id in their records; audit trace and explain run collect them and what followed', async () => {
  const s = makeStack();
  try {
    assert.equal(s.cli('apply').code, 0);
    const task = { agent_id: 'bot', request_id: 'task-1', session_id: 'thread-1' };
    const read = await s.govern({ ...task, tool: 'ticket/read', args: {} });
    const refund = await s.govern({ ...task, tool: 'stripe/refund', args: { amount: 80 } });
    assert.equal(refund.effect, 'DEFER');
    const approved = s.cli('approvals', 'approve', refund.defer_token!, '--reason', 'known customer');
    assert.equal(approved.code, 0, approved.stderr);
    const rerun = await s.govern({ ...task, tool: 'stripe/refund', args: { amount: 80 } });
    assert.equal(rerun.effect, 'PERMIT');
    const payout = await s.govern({ ...task, tool: 'stripe/payouts', args: {} });
    assert.equal(payout.effect, 'DENY');
    // Another task, and a call of the same session without a request id.
    await s.govern({ agent_id: 'bot', request_id: 'task-2', tool: 'ticket/read', args: {} });
    await s.govern({ agent_id: 'bot', session_id: 'thread-1', tool: 'search', args: {} });
    // The agent protocol bounds the ids; a longer one is refused before any decision.
    const long = JSON.parse(
      await s.raw(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 9,
          method: 'govern',
          params: { agent_id: 'bot', tool: 'search', request_id: 'x'.repeat(257) },
        }),
      ),
    ) as { error?: { message: string } };
    assert.match(String(long.error?.message), /request_id/);

    const trace = s.cli('audit', 'trace', 'task-1');
    assert.equal(trace.code, 0, trace.stderr);
    assert.match(trace.stdout, /^Run task-1: 4 decisions \(4 by request_id\)/);
    const lines = trace.stdout.trim().split('\n').slice(2);
    assert.deepEqual(
      lines.map((l) => l.replace(/^\[[^\]]+\] /, '').replace(/action-\w+/g, 'A')),
      [
        'A  bot  ticket/read  PERMIT',
        'A  bot  stripe/refund  DEFER   refunds need a human',
        `approval_resolved  ${refund.defer_token!} of A approved by ${/by (\S+)/.exec(lines[2]!)?.[1] ?? '?'}`,
        'A  bot  stripe/refund  PERMIT',
        'A  bot  stripe/payouts  DENY    platform team only',
      ],
    );
    assert.ok(lines[0]!.includes(read.action_id!) && lines[4]!.includes(payout.action_id!));
    // JSON: the stored bytes of each record, the ids inside.
    const records = s
      .cli('audit', 'trace', 'task-1', '--format', 'json')
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.type, r.request_id, r.session_id]),
      [
        ['decision', 'task-1', 'thread-1'],
        ['decision', 'task-1', 'thread-1'],
        ['approval_resolved', undefined, undefined],
        ['decision', 'task-1', 'thread-1'],
        ['decision', 'task-1', 'thread-1'],
      ],
    );

    // From one decision to its run.
    const one = s.cli('explain', 'decision', read.action_id!);
    assert.match(one.stdout, /\nRun {8}task-1 {3}\(faramesh explain run task-1\)\nSession {4}thread-1\n/);
    const run = s.cli('explain', 'run', 'task-1');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Run task-1 \(4 decisions, \d+\.\d{3}s total\)\n─+\n/);
    assert.match(run.stdout, /\[\+0\.000s\] {2}permit {2}ticket\/read {5}governance\.fms:\d+\n/);
    assert.match(
      run.stdout,
      new RegExp(`defer {3}stripe/refund {3}POLICY_DEFER governance\\.fms:\\d+ → ${refund.defer_token!} approved by \\S+\\n`),
    );
    assert.match(run.stdout, new RegExp(`permit {2}stripe/refund {3}governance\\.fms:\\d+ \\(under ${refund.defer_token!}\\)\\n`));
    assert.match(run.stdout, /deny {4}stripe\/payouts {2}POLICY_DENY governance\.fms:\d+ — platform team only\n/);
    assert.match(
      run.stdout,
      /Identity: {3}bot\nTotal cost: \$0\.0000\nApprovals: {2}1 approved\nMatched: {4}4 decisions \(4 by request_id\)/,
    );
    const json = JSON.parse(s.cli('explain', 'run', 'task-1', '--format', 'json').stdout) as {
      decisions: { effect: string; approval: { id: string; outcome: string } | null; ran_under: string | null }[];
      approvals: Record<string, string[]>;
    };
    assert.deepEqual(
      json.decisions.map((d) => [d.effect, d.approval?.outcome ?? null, d.ran_under]),
      [
        ['permit', null, null],
        ['defer', 'approved', null],
        ['permit', null, refund.defer_token],
        ['deny', null, null],
      ],
    );
    assert.deepEqual(json.approvals.approved, [refund.defer_token]);

    // A session id gathers its calls too, with or without a request id; a pending deferral is listed.
    const pending = await s.govern({ agent_id: 'bot', session_id: 'thread-1', tool: 'stripe/refund', args: { amount: 5 } });
    const session = s.cli('explain', 'run', 'thread-1');
    assert.equal(session.code, 0, session.stderr);
    assert.match(session.stdout, /^Run thread-1 \(6 decisions/);
    assert.match(session.stdout, new RegExp(`Approvals: {2}1 pending \\(${pending.defer_token!}\\), 1 approved\\n`));
    assert.match(session.stdout, /Matched: {4}6 decisions \(6 by session_id\)/);

    const none = s.cli('explain', 'run', 'task-404');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no decision in .* has request_id or session_id 'task-404'/);
    assert.equal(s.cli('audit', 'trace', 'task-404').code, 1);
    assert.equal(s.cli('explain', 'run').code, 64);
    // ls: the newest decisions, filtered; stats: the counts.
    const ls = s.cli('audit', 'ls', '--since', '1h', '--tool', 'stripe/refund');
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(
      ls.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s{2,}/).slice(2)),
      [
        ['AGENT', 'TOOL', 'EFFECT', 'REASON'],
        ['bot', 'stripe/refund', 'DEFER', 'POLICY_DEFER: refunds need a human'],
        ['bot', 'stripe/refund', 'PERMIT', '—'],
        ['bot', 'stripe/refund', 'DEFER', 'POLICY_DEFER: refunds need a human'],
      ],
    );
    const newest = s.cli('audit', 'ls', '--limit', '2', '--effect', 'permit');
    assert.match(newest.stderr, /\(2 older matching decisions not shown/);
    assert.deepEqual(
      (
        JSON.parse(s.cli('audit', 'ls', '--limit', '2', '--effect', 'permit', '--format', 'json').stdout) as {
          matched: number;
          decisions: { tool: string }[];
        }
      ).decisions.map((d) => d.tool),
      ['ticket/read', 'search'],
    );
    const stats = JSON.parse(s.cli('audit', 'stats', '--since', '24h', '--format', 'json').stdout) as Record<string, unknown>;
    assert.deepEqual(
      [stats.total, stats.effects, stats.tools, stats.denial_codes],
      [
        7,
        { permit: 4, defer: 2, deny: 1 },
        [
          { name: 'stripe/refund', count: 3 },
          { name: 'ticket/read', count: 2 },
          { name: 'search', count: 1 },
          { name: 'stripe/payouts', count: 1 },
        ],
        [
          { name: 'POLICY_DEFER', count: 2 },
          { name: 'POLICY_DENY', count: 1 },
        ],
      ],
    );
    const text = s.cli('audit', 'stats', '--since', '24h');
    assert.match(
      text.stdout,
      /^Decisions \(last 24h\)\n─+\ntotal {3}7\npermit {2}4 {2}\(57\.1%\)\ndefer {3}2 {2}\(28\.6%\)\ndeny {4}1 {2}\(14\.3%\)\n/,
    );
    assert.match(text.stdout, /Top tools\n {2}stripe\/refund {3}3\n/);
    assert.equal(s.cli('audit', 'stats', '--since', 'yesterday').code, 64);
    assert.equal(s.cli('audit', 'ls', '--limit', '0').code, 64);
    // wal inspect: the running daemon holds the writer's lock.
    const wal = s.cli('audit', 'wal', 'inspect');
    assert.equal(wal.code, 0, wal.stderr);
    assert.match(wal.stdout, new RegExp(`writer: {7}pid ${s.pid()}\\n`));
    assert.match(wal.stdout, /segments: {5}1 \(0 sealed\)\nrecords: {6}\d+\n/);
    assert.match(wal.stdout, /SEGMENT +STATE +FIRST SEQ +RECORDS +BYTES +ROOT \/ PROBLEM\nseg-0000000000000000\.wal +active +0 +\d+/);
    const inspected = JSON.parse(s.cli('audit', 'wal', 'inspect', '--format', 'json').stdout) as {
      records: number;
      last: { type: string };
    };
    assert.ok(inspected.records > 9 && inspected.last.type.length > 0);
    // A call retried while its approval waits joins it, under another request too: one approval, resolved for both.
    const first = await s.govern({ agent_id: 'bot', request_id: 'task-5', tool: 'stripe/refund', args: { amount: 6 } });
    await s.govern({ agent_id: 'bot', request_id: 'task-5', tool: 'stripe/refund', args: { amount: 6 } });
    const other = await s.govern({ agent_id: 'bot', request_id: 'task-6', tool: 'stripe/refund', args: { amount: 6 } });
    assert.equal(other.defer_token, first.defer_token);
    assert.equal(s.cli('approvals', 'deny', first.defer_token!, '--reason', 'not this one').code, 0);
    await s.govern({ agent_id: 'bot', request_id: 'task-6', tool: 'stripe/refund', args: { amount: 6 } });
    const five = s.cli('explain', 'run', 'task-5');
    assert.match(five.stdout, /Approvals: {2}1 denied\n/);
    const six = s.cli('explain', 'run', 'task-6');
    assert.match(six.stdout, new RegExp(`→ ${first.defer_token!} denied by \\S+\\n`));
    // The operator's denial of the retried call says so, though its rule defers.
    assert.match(six.stdout, /deny {4}stripe\/refund {2}POLICY_DENY governance\.fms:\d+ — denied by \S+: not this one\n/);
    assert.match(six.stdout, /Approvals: {2}1 denied\n/);

    // The records with their new fields verify.
    const verify = s.cli('audit', 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    // An evidence bundle, once the daemon's shutdown checkpoint signs every record: checked offline, from the file alone.
    assert.equal(s.cli('apply', '--stop').code, 0);
    const evidence = join(s.dir, 'evidence.json');
    const exported = s.cli('audit', 'export', '--include-public-keys', '--out', evidence);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /^✓ \d+ records \(seq 0–\d+\) proven against the checkpoint of tree size \d+, keys from .*audit\.pub\n$/);
    const offline = (...args: string[]) => spawnSync(process.execPath, [BIN, 'audit', 'verify-bundle', ...args], { encoding: 'utf8' });
    const checked = offline(evidence);
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /keys the bundle's own: compare their ids/);
    assert.match(
      checked.stdout,
      /✓ every record well formed and in canonical form; \d+ chains linked within the bundle\n✓ window the start of the log to the checkpoint: \d+ records of the bundle fall in it\n {2}the run ends with the signed tree: records written after the checkpoint are not in it\nbundle verified\n$/,
    );
    assert.equal(offline(evidence, '--key', join(s.dir, '.faramesh', 'keys', 'audit.pub')).status, 0);
    writeFileSync(evidence, readFileSync(evidence, 'utf8').replace(/\\"effect\\":\\"deny\\"/, '\\"effect\\":\\"permit\\"'));
    const forged = offline(evidence);
    assert.equal(forged.status, 1);
    assert.match(forged.stdout, /'proof' the records are not the run of leaves the checkpoint signed/);
    assert.equal(s.cli('audit', 'export', '--include-public-keys', '--format', 'csv').code, 64);
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

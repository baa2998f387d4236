import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';

import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '@faramesh/protocol';
import {
  argsHash,
  AuditLog,
  Ed25519Signer,
  encodeTextFrame,
  encodeVerifierKey,
  loadStackSigner,
  newEd25519Key,
  type RecordInput,
} from '@faramesh/audit';

const BIN = fileURLToPath(new URL('../../bin/faramesh.js', import.meta.url));
const POLICY = 'ab'.repeat(32);

function run(args: string[], cwd?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const decision = (agent: string, i: number, time: string): RecordInput => ({
  type: 'decision',
  schema: 'dpr/2.0',
  time,
  agent_id: agent,
  tool: i % 2 ? 'send_email' : 'stripe/refund',
  action_type: 'tool_call',
  args_hash: argsHash({ amount: i }),
  effect: i % 3 === 0 ? 'deny' : 'permit',
  ...(i % 3 === 0
    ? {
        code: 'POLICY_DENY' as const,
        denial: {
          code: 'POLICY_DENY' as const,
          human_message: 'refunds over $500 need the platform team',
          resolution: { type: 'rule_block' as const, rule_id: 'governance.fms:3' },
        },
      }
    : {}),
  rule_ref: 'governance.fms:3',
  policy_version: POLICY,
  latency_ms: { policy: 0.02 },
});

/** A stack whose governance.fms points the WAL at ./wal, with a signed log of 30 decisions over two days. */
async function stackWithLog(): Promise<{ stack: string; wal: string; ids: string[] }> {
  const stack = mkdtempSync(join(tmpdir(), 'faramesh-audit-cli-'));
  writeFileSync(
    join(stack, 'governance.fms'),
    'runtime {\n  wal_dir = "./wal"\n}\n\nagent "support-bot" {\n  default deny\n  permit stripe/refund\n}\n',
  );
  const wal = join(stack, 'wal');
  const { log } = await AuditLog.open(wal, { signer: loadStackSigner(stack, 'faramesh/test'), checkpointEvery: 8, maxSegmentBytes: 6000 });
  await log.append({ type: 'policy_applied', policy_version: POLICY, source_hash: 'cd'.repeat(32), time: '2026-05-01T00:00:00Z' });
  const ids: string[] = [];
  for (let i = 0; i < 30; i++)
    ids.push(
      (
        await log.append(
          decision(i % 2 ? 'support-bot' : 'ops-bot', i, `2026-05-0${1 + Math.floor(i / 15)}T10:${String(i).padStart(2, '0')}:00Z`),
        )
      ).id,
    );
  await log.close();
  return { stack, wal, ids };
}

const fixture = await stackWithLog();
const fresh = () => {
  const stack = mkdtempSync(join(tmpdir(), 'faramesh-audit-cli-'));
  cpSync(fixture.stack, stack, { recursive: true });
  return { stack, wal: join(stack, 'wal') };
};

test('audit verify: finds the WAL from runtime { wal_dir } and the pinned key under .faramesh/keys', () => {
  const r = run(['audit', 'verify'], fixture.stack);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Verifying audit log at wal \.\.\./);
  assert.match(r.stdout, /✓ \d+ records in \d+ segments, 3 chains/);
  assert.match(r.stdout, /✓ segment manifests: (\d+)\/\1 ok/);
  assert.match(r.stdout, /✓ checkpoints: (\d+)\/\1 signatures valid \(faramesh\/test, pinned in .*audit\.pub\), Merkle roots match/);
  assert.match(r.stdout, /✓ policy continuity: 1 policy version/);
  assert.match(r.stdout, /audit chain verified\n$/);
  const w = run(['audit', 'verify', '--dir', fixture.wal, '--stack', fixture.stack, '--from', '2026-05-02', '--to', '2026-05-02']);
  assert.match(w.stdout, /\(15 in the window\)/);
  // Windows that cannot be meant are usage errors (64), never an empty window that "verifies".
  for (const [flags, why] of [
    [['--from', '2026-02-30'], /'2026-02-30' is not a date/],
    [['--to', '2026-05-02T10:00:00'], /RFC 3339 time with its offset/],
    [['--from', '2026-05-02T10:00:00Z', '--to', '2026-05-02T09:00:00Z'], /is after --to/],
  ] as const) {
    const bad = run(['audit', 'verify', '--dir', fixture.wal, '--stack', fixture.stack, ...flags]);
    assert.equal(bad.code, 64, bad.stdout);
    assert.match(bad.stderr, why);
  }
  assert.equal(run(['audit', 'verify', '--dir', fixture.wal, '--stack', fixture.stack, '--to', '2026-05-02T10:00:00+02:00']).code, 0);
});

test('audit verify: a rewritten record fails with its id, field, file and offset (exit 1)', () => {
  const { stack, wal } = fresh();
  const target = fixture.ids[12]!;
  const segment = readdirSync(wal).find((f) => f.endsWith('.wal') && readFileSync(join(wal, f), 'utf8').includes(target))!;
  const bytes = readFileSync(join(wal, segment));
  const start = bytes.indexOf('{', bytes.indexOf(target) - 400 > 0 ? bytes.lastIndexOf('{"action_type"', bytes.indexOf(target)) : 0);
  const length = bytes.readUInt32BE(start - 8);
  const record = JSON.parse(bytes.subarray(start, start + length).toString()) as Record<string, unknown>;
  const { frame } = encodeTextFrame(canonicalJson({ ...record, effect: record.effect === 'deny' ? 'permit' : 'deny' }));
  writeFileSync(join(wal, segment), Buffer.concat([bytes.subarray(0, start - 8), frame, bytes.subarray(start + length)]));
  const r = run(['audit', 'verify'], stack);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, new RegExp(`✗ chain break at action-${target} \\(seq \\d+\\)`));
  assert.match(r.stdout, /field: {3}content/);
  assert.match(r.stdout, new RegExp(`file: {4}wal/${segment} offset=${start - 8}`));
  assert.match(r.stdout, /audit chain verification failed/);
  const json = JSON.parse(run(['audit', 'verify', '--format', 'json'], stack).stdout) as {
    ok: boolean;
    problems: { id: string }[];
    problem_count: number;
    in_window: number;
  };
  assert.equal(json.ok, false);
  assert.ok(json.problem_count >= 1 && json.in_window > 0, 'snake_case, as every JSON the CLI prints');
  assert.equal(json.problems[0]!.id, target);
});

test('audit verify: only pinned keys are trusted; no log is exit 2', () => {
  const other = join(fixture.stack, 'other.pub');
  writeFileSync(other, encodeVerifierKey(new Ed25519Signer('faramesh/test', newEd25519Key())) + '\n');
  const r = run(['audit', 'verify', '--key', other], fixture.stack);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /note problem at .*\n.*\n {4}reason: {2}the checkpoint signature does not verify against a pinned key/);
  const empty = mkdtempSync(join(tmpdir(), 'faramesh-audit-cli-'));
  const none = run(['audit', 'verify'], empty);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no audit log in .*faramesh-wal/);
});

test('audit proof, checkpoint and consistency: an off-host checkpoint exposes truncation', async () => {
  const { stack, wal } = fresh();
  const proof = JSON.parse(run(['audit', 'proof', `action-${fixture.ids[5]}`, '--format', 'json'], stack).stdout) as {
    seq: number;
    proof: string[];
    tree_size: number;
  };
  assert.equal(proof.seq, 7, 'after the key announcement and the policy');
  assert.ok(proof.proof.length > 0 && proof.tree_size > 6);
  const kept = join(stack, 'kept.ckpt');
  writeFileSync(kept, run(['audit', 'checkpoint'], stack).stdout);
  assert.match(readFileSync(kept, 'utf8'), /^faramesh\/test\n\d+\n/);
  // The log grows: it still extends the kept checkpoint.
  const { log } = await AuditLog.open(wal, { signer: loadStackSigner(stack, 'faramesh/test') });
  await log.append(decision('ops-bot', 99, '2026-05-03T00:00:00Z'));
  await log.close();
  const ok = run(['audit', 'consistency', kept], stack);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /✓ the log extends the old checkpoint: tree size (\d+) → (\d+)/);
  // Truncated: the last segment removed entirely (its predecessor's manifest stays valid).
  const segments = readdirSync(wal)
    .filter((f) => f.endsWith('.wal'))
    .sort();
  for (const s of segments.slice(1)) writeFileSync(join(wal, s), readFileSync(join(wal, s)).subarray(0, 30));
  const bad = run(['audit', 'consistency', kept], stack);
  assert.notEqual(bad.code, 0, bad.stdout);
  assert.match(bad.stdout + bad.stderr, /truncated|no longer matches|damaged|missing/);
});

test('audit consistency: a rewritten log is a failed proof (exit 1, and JSON with --format json), like a truncated one', () => {
  const { stack, wal } = fresh();
  const kept = join(stack, 'kept.ckpt');
  writeFileSync(kept, run(['audit', 'checkpoint'], stack).stdout);
  const target = fixture.ids[3]!;
  const segment = readdirSync(wal).find((f) => f.endsWith('.wal') && readFileSync(join(wal, f), 'utf8').includes(target))!;
  const bytes = readFileSync(join(wal, segment));
  const start = bytes.lastIndexOf('{"action_type"', bytes.indexOf(target));
  const length = bytes.readUInt32BE(start - 8);
  const record = JSON.parse(bytes.subarray(start, start + length).toString()) as Record<string, unknown>;
  const { frame } = encodeTextFrame(canonicalJson({ ...record, effect: record.effect === 'deny' ? 'permit' : 'deny' }));
  writeFileSync(join(wal, segment), Buffer.concat([bytes.subarray(0, start - 8), frame, bytes.subarray(start + length)]));
  const text = run(['audit', 'consistency', kept], stack);
  assert.equal(text.code, 1, text.stdout + text.stderr);
  assert.match(text.stdout, /rewritten/);
  const json = run(['audit', 'consistency', kept, '--format', 'json'], stack);
  assert.equal(json.code, 1, json.stdout + json.stderr);
  const parsed = JSON.parse(json.stdout) as { ok: boolean; reason: string };
  assert.equal(parsed.ok, false);
  assert.match(parsed.reason, /rewritten/);
});

test('audit export: jsonl keeps the stored bytes; json and csv; --from/--to select by day', () => {
  const jsonl = run(['audit', 'export', '--from', '2026-05-02', '--format', 'jsonl'], fixture.stack);
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const lines = jsonl.stdout.trimEnd().split('\n');
  assert.ok(lines.length >= 15, `${lines.length} lines`);
  for (const l of lines) assert.equal(canonicalJson(JSON.parse(l)), l, 'canonical bytes, as hashed');
  const json = JSON.parse(run(['audit', 'export', '--to', '2026-05-01', '--format', 'json'], fixture.stack).stdout) as {
    count: number;
    records: { time: string }[];
  };
  assert.ok(json.records.every((r) => r.time.startsWith('2026-05-01')));
  assert.equal(json.count, json.records.length);
  // To a file: said, with how many (stdout is free, and a silent success looked like nothing written).
  const file = join(mkdtempSync(join(tmpdir(), 'fm-export-')), 'out.json');
  const toFile = run(['audit', 'export', '--to', '2026-05-01', '--format', 'json', '--out', file], fixture.stack);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(toFile.stdout, '');
  assert.match(toFile.stderr, new RegExp(`✓ ${json.count} records exported to .*out\\.json \\(json\\)`));
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { count: number }).count, json.count);
  const csv = run(['audit', 'export', '--format', 'csv', '--from', '2026-05-01T10:00:00Z', '--to', '2026-05-01T10:02:00Z'], fixture.stack)
    .stdout.trimEnd()
    .split('\n');
  assert.equal(csv[0], 'seq,id,time,type,agent_id,tool,effect,code,rule_ref,policy_version,args_hash,prev_hash,leaf_hash,detail');
  assert.equal(csv.length, 4, csv.join('\n'));
  assert.equal(run(['audit', 'export', '--from', 'yesterday'], fixture.stack).code, 64, 'a usage error, as for verify');
});

test('audit export --format csv: a text a spreadsheet would run as a formula stays text', async () => {
  const { stack, wal } = fresh();
  const { log } = await AuditLog.open(wal, { signer: loadStackSigner(stack, 'faramesh/test') });
  await log.append({ ...decision('@SUM(1+1)', 1, '2026-05-03T10:00:00Z'), tool: '=cmd|calc' });
  await log.close();
  const csv = run(['audit', 'export', '--format', 'csv'], stack).stdout.trimEnd().split('\n');
  const row = csv.find((l) => l.includes('calc'));
  assert.ok(row, csv.join('\n'));
  const [, , , , agent, tool] = row.split(',');
  assert.equal(agent, "'@SUM(1+1)");
  assert.equal(tool, "'=cmd|calc");
});

test('audit tail: filters, limit and json; follows new records live from the files', async () => {
  const r = run(['audit', 'tail', '--no-follow', '--effect', 'deny', '--agent', 'ops-bot', '--limit', '3'], fixture.stack);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  for (const l of lines) assert.match(l, /^\[2026-05-0\dT[\d:]+Z\] action-[0-9A-Z]{26} {2}ops-bot {2}\S+ {2}DENY {3} refunds over \$500/);
  const json = run(['audit', 'tail', '--no-follow', '--format', 'json', '--tool', 'send_email', '--limit', '2'], fixture.stack);
  assert.ok(
    json.stdout
      .trimEnd()
      .split('\n')
      .every((l) => (JSON.parse(l) as { tool: string }).tool === 'send_email'),
  );

  const { stack, wal } = fresh();
  const child = spawn(process.execPath, [BIN, 'audit', 'tail', '--limit', '100', '--agent', 'late-bot'], {
    cwd: stack,
    env: { ...process.env, NO_COLOR: '1' },
  });
  let seen = '';
  child.stdout.on('data', (d: Buffer) => (seen += d.toString()));
  await new Promise((res) => setTimeout(res, 400));
  const { log } = await AuditLog.open(wal, { maxSegmentBytes: 2500 });
  for (let i = 0; i < 8; i++) await log.append(decision('late-bot', i, `2026-05-03T00:00:0${i}Z`));
  await log.close();
  const deadline = Date.now() + 5000;
  while ((seen.match(/late-bot/g) ?? []).length < 8 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  child.kill('SIGTERM');
  const code = await new Promise((res) => child.once('exit', res));
  assert.equal((seen.match(/late-bot/g) ?? []).length, 8, seen);
  assert.equal(code, 0);
});

test('audit show and explain <action-id>: the record, its hash, chain and checkpoint', () => {
  const id = fixture.ids[3]!;
  const show = run(['audit', 'show', id], fixture.stack);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^DPR\n/);
  assert.match(show.stdout, /this_hash: +[0-9a-f]{64}/);
  assert.match(show.stdout, /signed: +covered by the checkpoint of tree size \d+, signed by faramesh\/test \(pinned\)/);
  const explain = run(['explain', `action-${id}`], fixture.stack);
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(explain.stdout, new RegExp(`^Decision {3}action-${id}\n`));
  assert.match(explain.stdout, /Effect {5}deny {2}POLICY_DENY {2}refunds over \$500 need the platform team/);
  assert.match(explain.stdout, /Args {7}sha256 [0-9a-f]{64} {3}\(values are never stored in the log\)/);
  assert.match(explain.stdout, /Chain {6}prev_hash matches; the log verifies up to this record/);
  assert.equal(run(['explain', 'action-01JD3Z5Q8X9K2M4N6P7R8S9T0V'], fixture.stack).code, 1);
  assert.equal(run(['explain'], fixture.stack).code, 64);
  // The flags of a hypothetical call, given with a recorded one, are refused rather than ignored.
  const mixed = run(['explain', `action-${id}`, '--tool', 'stripe/refund', '--args', '{"amount":1}'], fixture.stack);
  assert.equal(mixed.code, 64, mixed.stderr);
  assert.match(mixed.stderr, /--tool, --args describe a hypothetical call/);
  // A malformed option is a usage error, as elsewhere.
  for (const bad of [
    ['--args', 'notjson'],
    ['--principal', '[1]'],
    ['--now', 'yesterday'],
  ])
    assert.equal(run(['explain', '--agent', 'a', '--tool', 't', ...bad], fixture.stack).code, 64, bad.join(' '));
});

test('the bundled CLI ships the worker `audit verify` scans large logs with, and it scans', async () => {
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(fileURLToPath(new URL('../bundle/verify-worker.js', import.meta.url)));
  try {
    const segment = readdirSync(fixture.wal).find((f) => f.endsWith('.wal'))!;
    const bytes = readFileSync(join(fixture.wal, segment));
    const headerEnd = 8 + bytes.readUInt32BE(0);
    const body = bytes.subarray(headerEnd);
    const answer = new Promise<{ id: number; summary?: { count: number } }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const copy = new Uint8Array(body);
    worker.postMessage({ id: 7, bytes: copy.buffer, base: headerEnd, stop: Infinity, window: {} }, [copy.buffer]);
    const { id, summary } = await answer;
    assert.equal(id, 7);
    assert.ok(summary && summary.count > 0, 'a clean run comes back as its summary');
  } finally {
    await worker.terminate();
  }
});

test('audit ls and stats --since read only the sealed segments the window can reach (their manifests bound their times)', async () => {
  // A log of May, unsigned (a checkpoint's record would be stamped now), then four decisions of now.
  const stack = mkdtempSync(join(tmpdir(), 'faramesh-audit-cli-'));
  writeFileSync(join(stack, 'governance.fms'), readFileSync(join(fixture.stack, 'governance.fms')));
  const wal = join(stack, 'wal');
  const { log } = await AuditLog.open(wal, { maxSegmentBytes: 6000 });
  await log.append({ type: 'policy_applied', policy_version: POLICY, source_hash: 'cd'.repeat(32), time: '2026-05-01T00:00:00Z' });
  for (let i = 0; i < 30; i++) await log.append(decision('may-bot', i, `2026-05-01T10:${String(i).padStart(2, '0')}:00Z`));
  for (let i = 0; i < 4; i++) await log.append(decision('fresh-bot', i, new Date().toISOString()));
  await log.close();
  // Damage a record in the oldest segment (May): a reader that entered it would stop there.
  const oldest = readdirSync(wal)
    .filter((f) => f.endsWith('.wal'))
    .sort()[0]!;
  const bytes = readFileSync(join(wal, oldest));
  bytes[bytes.length - 3]! ^= 1;
  writeFileSync(join(wal, oldest), bytes);
  const recent = run(['audit', 'ls', '--since', '1h', '--format', 'json'], stack);
  assert.equal(recent.code, 0, recent.stderr);
  const rows = (JSON.parse(recent.stdout) as { decisions: { agent_id: string }[] }).decisions;
  assert.deepEqual(
    rows.map((r) => r.agent_id),
    ['fresh-bot', 'fresh-bot', 'fresh-bot', 'fresh-bot'],
  );
  assert.equal(run(['audit', 'stats', '--since', '1h'], stack).code, 0);
  // The whole log is read without a window, and the damage is reported; verify names it.
  const all = run(['audit', 'ls'], stack);
  assert.equal(all.code, 1);
  assert.match(all.stderr, /audit log damaged in seg-0+\.wal/);
  assert.equal(run(['audit', 'verify'], stack).code, 1);
});

test('audit tail, ls, stats, show, trace and explain: an agent-chosen tool name or agent id cannot reach the terminal as escape sequences or a forged line', async () => {
  const stack = mkdtempSync(join(tmpdir(), 'faramesh-audit-cli-'));
  writeFileSync(join(stack, 'governance.fms'), 'runtime {\n  wal_dir = "./wal"\n}\n');
  const { log } = await AuditLog.open(join(stack, 'wal'), { signer: loadStackSigner(stack, 'faramesh/test') });
  await log.append({ type: 'policy_applied', policy_version: POLICY, source_hash: 'cd'.repeat(32), time: '2026-05-01T00:00:00Z' });
  const hostile = {
    ...decision('\x1b[31mbot\x1b[0m', 3, '2026-05-01T10:00:00Z'),
    tool: 'evil\x1b]0;PWNED\x07\x1b[2J\u009b2J\n[2026-05-01T10:00:01Z] action-X  support-bot  stripe/refund  PERMIT',
    request_id: 'req-1',
  } as RecordInput;
  const { id } = await log.append(hostile);
  await log.close();
  const commands = [
    ['audit', 'tail', '--no-follow'],
    ['audit', 'ls'],
    ['audit', 'stats'],
    ['audit', 'show', `action-${id}`],
    ['audit', 'trace', 'req-1'],
    ['explain', `action-${id}`],
    ['explain', 'run', 'req-1'],
  ];
  for (const args of commands) {
    const r = run(args, stack);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, `${args.join(' ')} printed a control character`);
    assert.match(r.stdout, /evil\\x1b\]0;PWNED\\x07/, args.join(' '));
    if (args[0] === 'audit' && args[1] !== 'show')
      assert.doesNotMatch(r.stdout, /\n\[2026-05-01T10:00:01Z\] action-X/, `${args.join(' ')} forged a line`);
  }
});

test('audit show and explain: a record altered as the last of its chain is not said to verify (only the checkpoint root exposes it)', () => {
  const { stack, wal } = fresh();
  const target = fixture.ids.at(-1)!;
  for (const segment of readdirSync(wal).filter((f) => f.endsWith('.wal'))) {
    const bytes = readFileSync(join(wal, segment));
    for (let at = 0; at + 8 <= bytes.length;) {
      const length = bytes.readUInt32BE(at);
      if (length === 0) break;
      const payload = bytes.subarray(at + 8, at + 8 + length);
      const record = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (record.id === target) {
        const { frame } = encodeTextFrame(canonicalJson({ ...record, effect: record.effect === 'deny' ? 'permit' : 'deny' }));
        writeFileSync(join(wal, segment), Buffer.concat([bytes.subarray(0, at), frame, bytes.subarray(at + 8 + length)]));
      }
      at += 8 + length;
    }
  }
  assert.equal(run(['audit', 'verify'], stack).code, 1);
  for (const args of [
    ['audit', 'show', `action-${target}`],
    ['explain', `action-${target}`],
  ]) {
    const r = run(args, stack);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /the log verifies up to this record/, args.join(' '));
    assert.match(r.stdout, /broken at seq \d+ \(root: /, args.join(' '));
  }
  // Records before the last checkpoint that matched still verify.
  assert.match(run(['audit', 'show', `action-${fixture.ids[0]!}`], stack).stdout, /the log verifies up to this record/);
});

test(
  'audit export to a pipe its reader has not read yet waits on it: the export is never queued whole in memory',
  { skip: process.platform !== 'linux' },
  async () => {
    const wal = mkdtempSync(join(tmpdir(), 'fm-export-pipe-'));
    const { log } = await AuditLog.open(wal, { checkpointEvery: 1_000_000, maxSegmentBytes: 4 << 20 });
    const note = 'n'.repeat(4000);
    for (let i = 0; i < 40_000; i += 1000)
      await Promise.all(
        Array.from({ length: 1000 }, (_, j) =>
          log.append({ type: 'decision', agent_id: 'a', tool: 't', effect: 'permit', note, seq_hint: i + j } as never),
        ),
      );
    await log.close();
    // About 160 MB of jsonl; the reader reads nothing for three seconds. Streaming holds under 200 MB
    // (a segment at a time); queued for the pipe, the export is there too, twice over.
    const child = spawn(process.execPath, [BIN, 'audit', 'export', '--dir', wal, '--format', 'jsonl'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const peak = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    let highest = 0;
    for (let t = 0; t < 30; t++) {
      await new Promise((r) => setTimeout(r, 100));
      highest = Math.max(highest, peak());
    }
    let bytes = 0;
    child.stdout.on('data', (b: Buffer) => (bytes += b.length));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 0);
    assert.ok(bytes > 160_000_000, `${bytes} bytes exported`);
    assert.ok(highest < 300, `the exporter held ${Math.round(highest)} MB while its reader waited`);
  },
);

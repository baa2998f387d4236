import { test } from 'node:test';
import assert from 'node:assert/strict';

import { cpSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuditLog,
  Ed25519Signer,
  encodeTextFrame,
  newEd25519Key,
  verifyLog,
  verifyLogParallel,
  type VerifyOptions,
  type VerifyReport,
} from '../src/index.js';
import { decision, delta, policyApplied, POLICY, tearTail, tmp } from './helpers.js';
import { locate, rewrite } from './tamper.js';
import { canonicalJson } from '@faramesh/protocol';

const signer = new Ed25519Signer('faramesh/test', newEd25519Key());
const verifiers = [signer];

/** A log with every record type, several chains, sealed segments and checkpoints. */
async function build(): Promise<string> {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { signer, checkpointEvery: 10, maxSegmentBytes: 8500 });
  await log.append({ type: 'daemon_started', pid: 4242, version: '0.1.0' });
  await log.append(policyApplied());
  for (let i = 0; i < 45; i++) await log.append(decision(['a', 'b', 'c'][i % 3]!, i));
  await log.append({
    type: 'approval_resolved',
    agent_id: 'a',
    action_id: 'action-01JD3Z5Q8X9K2M4N6P7R8S9T0V',
    approval_id: 'apr-1',
    outcome: 'approved',
    by: 'alice',
  });
  await log.append(decision('a', 46, { approval: { id: 'apr-1', approved_by: 'alice', at: '2026-05-17T10:00:00Z' } }));
  await log.append(delta('a', 99));
  await log.append({ type: 'daemon_stopped', reason: 'shutdown' });
  await log.close();
  return dir;
}

const fixture = await build();
const copy = () => {
  const dir = tmp();
  cpSync(fixture, dir, { recursive: true });
  return dir;
};
const seqsOf = (dir: string, agent: string): number[] => {
  const out: number[] = [];
  for (let seq = 0; ; seq++) {
    try {
      const r = locate(dir, seq).record;
      if (r.type === 'decision' && r.agent_id === agent) out.push(seq);
    } catch {
      return out;
    }
  }
};
/** How many records the log holds, by locating them one by one. */
const recordCount = (dir: string): number => {
  for (let n = 0; ; n++) {
    try {
      locate(dir, n);
    } catch {
      return n;
    }
  }
};
const first = (r: VerifyReport) => r.problems[0];

const runs = { summary: 0, scan: 0, rescanned: 0 };
/**
 * Every log here is verified four times: inline, each segment read whole; inline, read 1,200 bytes
 * at a time (two or three records: pieces end everywhere); on two worker threads, read 400 bytes at
 * a time (most records do not fit: the rest of the segment is read whole); and on one worker thread
 * beside the main one with runs of three frames (so runs start and end everywhere). The reports
 * must be the same, down to key order.
 */
async function verify(dir: string, options: VerifyOptions): Promise<VerifyReport> {
  const inline = verifyLog(dir, { ...options, pieceBytes: 1 << 20 });
  const reports = [
    verifyLog(dir, { ...options, pieceBytes: 1200 }),
    await verifyLogParallel(dir, { ...options, workers: 2, minBytes: 0, pieceBytes: 400 }),
    await verifyLogParallel(dir, { ...options, workers: 1, minBytes: 0, runFrames: 3, onRun: (how) => runs[how]++ }),
  ];
  for (const report of reports) {
    assert.deepEqual(report, inline);
    assert.equal(JSON.stringify(report), JSON.stringify(inline));
  }
  return inline;
}

test('an intact log verifies: records, chains, manifests, checkpoints, policy continuity', async () => {
  const r = await verify(fixture, { verifiers });
  assert.deepEqual(r.problems, []);
  assert.equal(r.ok, true);
  assert.ok(r.records >= 50, `${r.records} records`);
  assert.ok(r.sealed >= 2 && r.manifestsOk === r.sealed, `${r.manifestsOk}/${r.sealed} manifests`);
  assert.ok(r.checkpoints.total >= 5 && r.checkpoints.verified === r.checkpoints.total, JSON.stringify(r.checkpoints));
  assert.equal(r.unsigned, 0, 'closing signs the tail');
  assert.equal(r.chains, 4, 'a, b, c and the stack');
  assert.equal(r.policyVersions, 1);
  assert.equal(r.dev, 0);
});

test('one agent with many records verifies (the original failed any agent with two)', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { signer, checkpointEvery: 3 });
  await log.append(policyApplied());
  for (let i = 0; i < 12; i++) await log.append(decision('solo', i));
  await log.close();
  const r = await verify(dir, { verifiers });
  assert.deepEqual(r.problems, []);
  assert.equal(r.chains, 2);
});

// Each field of a decision, altered to another plausible value.
const flipHex = (v: unknown) => String(v).replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
const ALTER: Record<string, (v: unknown) => unknown> = {
  type: () => 'state_delta',
  schema: () => 'dpr/1.0',
  id: (v) => String(v).slice(0, -1) + (String(v).endsWith('0') ? '1' : '0'),
  time: (v) => new Date(Date.parse(String(v)) + 1000).toISOString(),
  seq: (v) => Number(v) + 1,
  lamport_seq: (v) => Number(v) + 1,
  prev_hash: flipHex,
  agent_id: () => 'b',
  agent_svid: (v) => `${String(v)}x`,
  tool: () => 'stripe/charge',
  action_type: () => 'delegate',
  args_hash: flipHex,
  effect: () => 'permit',
  code: () => 'RATE_EXCEEDED',
  rule_ref: () => 'governance.fms:99',
  rule_digest: flipHex,
  policy_version: flipHex,
  denial: (v) => ({ ...(v as object), human_message: 'nothing to see' }),
  credential_ref: (v) => ({ ...(v as object), ttl_s: 3600 }),
  cost: (v) => ({ ...(v as object), usd: 0 }),
  latency_ms: (v) => ({ ...(v as object), policy: 9 }),
  delegation_chain: () => [],
  session_id: () => 'thread-8',
  request_id: () => 'task-43',
  approval: (v) => ({ ...(v as object), approved_by: 'mallory' }),
};

test('every field of a record, altered with the frame checksum fixed, is caught at that record', async () => {
  const seqs = seqsOf(fixture, 'a');
  // One in a sealed segment, one in the active segment; each has later records on its chain.
  const targets = [seqs[2]!, seqs[seqs.length - 3]!];
  const fields = Object.keys(locate(fixture, targets[0]!).record).sort();
  assert.deepEqual(fields, Object.keys(ALTER).sort(), 'the test alters every field a decision has');
  for (const target of targets) {
    for (const field of fields) {
      const dir = copy();
      rewrite(dir, target, (r) => ({ ...r, [field]: ALTER[field]!(r[field]) }));
      const r = await verify(dir, { verifiers });
      assert.equal(r.ok, false, `${field}@${target} went unnoticed`);
      assert.equal(first(r)?.seq, target, `${field}@${target}: first problem ${JSON.stringify(first(r))}`);
      if (['seq', 'lamport_seq', 'prev_hash', 'schema', 'policy_version'].includes(field))
        assert.ok(
          r.problems.some((p) => p.seq === target && p.field === field),
          `${field}@${target}: ${JSON.stringify(r.problems.slice(0, 3))}`,
        );
      if (field === 'agent_id')
        assert.ok(r.problems.some((p) => p.seq === target && (p.field === 'agent_id' || p.field === 'lamport_seq')));
    }
  }
});

test('removing a field, or adding one (such as raw arguments), is caught and named', async () => {
  const target = seqsOf(fixture, 'b')[3]!;
  let dir = copy();
  rewrite(dir, target, (r) => ({ ...r, args: { card_number: '4242' } }));
  let r = await verify(dir, { verifiers });
  assert.deepEqual([first(r)?.seq, first(r)?.field], [target, 'args']);
  dir = copy();
  rewrite(dir, target, (r) => {
    delete r.args_hash;
    return r;
  });
  r = await verify(dir, { verifiers });
  assert.deepEqual([first(r)?.seq, first(r)?.field, first(r)?.reason], [target, 'args_hash', 'is missing']);
});

test('a record whose bytes are not its canonical form (a duplicate key, an escape) is refused at open: the log never signs it', async () => {
  for (const spell of [
    (text: string) => text.replace('"type":"state_delta"', '"type":"decision","type":"state_delta"'),
    (text: string) => text.replace('"type":"state_delta"', '"type":"\\u0073tate_delta"'),
  ])
    for (const snapshot of [false, true]) {
      const dir = copy();
      // The last record, after the last checkpoint: no signature covers it, so only its form can tell
      // (with a snapshot, its leaf hash the snapshot holds tells too).
      const { log } = await AuditLog.open(dir);
      const last = await log.append(delta('b', 99));
      await log.close();
      if (!snapshot) rmSync(join(dir, 'snapshot.json'), { force: true });
      const at = locate(dir, last.seq);
      const path = join(dir, at.segment);
      const bytes = readFileSync(path);
      const length = bytes.readUInt32BE(at.offset);
      const text = canonicalJson(at.record);
      assert.notEqual(spell(text), text);
      const { frame } = encodeTextFrame(spell(text));
      writeFileSync(path, Buffer.concat([bytes.subarray(0, at.offset), frame, bytes.subarray(at.offset + 8 + length)]));
      await assert.rejects(
        AuditLog.open(dir, { signer }),
        snapshot ? /the record the snapshot ends at .* is not there/ : /not in its canonical form/,
      );
    }
});

test('hostile names (a type or key such as constructor or __proto__) are reported at their record, never crash the verifier', async () => {
  const target = seqsOf(fixture, 'b')[2]!;
  const edits: [string, (r: Record<string, unknown>) => Record<string, unknown>][] = [
    ['type', (r) => ({ ...r, type: 'constructor' })],
    ['type', (r) => ({ ...r, type: 'toString' })],
    ['constructor', (r) => ({ ...r, ['constructor']: 1 })],
    ['__proto__', (r) => ({ ...r, ['__proto__']: { admin: true } })],
    ['cost', (r) => ({ ...r, cost: { usd: 1, ['hasOwnProperty']: 2 } })],
    // A caller's id is bounded as the agent protocol bounds it.
    ['request_id', (r) => ({ ...r, request_id: 'x'.repeat(257) })],
    ['session_id', (r) => ({ ...r, session_id: '' })],
  ];
  for (const [field, edit] of edits) {
    const dir = copy();
    rewrite(dir, target, edit);
    const r = await verify(dir, { verifiers });
    assert.deepEqual([first(r)?.seq, first(r)?.field], [target, field], JSON.stringify(first(r)));
  }
});

test('a byte changed without fixing the checksum is a frame error at that record, with file and offset', async () => {
  const target = seqsOf(fixture, 'c')[4]!;
  const dir = copy();
  const at = rewrite(dir, target, (r) => ({ ...r, effect: 'permit' }), false);
  const p = first(await verify(dir, { verifiers }))!;
  assert.deepEqual([p.seq, p.field, p.segment, p.offset], [target, 'frame', at.segment, at.offset]);
  assert.match(p.reason, /CRC-32C/);
  assert.match(p.id ?? '', /^[0-9A-Z]{26}$/);
});

test('a record whose checksum fails where a piece read ends is judged as it is in the whole segment', async () => {
  // A decision well inside the first half of a segment: read `end` bytes at a time, the first piece ends with it.
  const target = seqsOf(fixture, 'a').find((seq) => {
    const { segment, offset } = locate(fixture, seq);
    const bytes = readFileSync(join(fixture, segment));
    return offset > 100 && 2 * (offset + 8 + bytes.readUInt32BE(offset)) < bytes.length;
  })!;
  const dir = copy();
  const at = rewrite(dir, target, (r) => ({ ...r, effect: r.effect === 'permit' ? 'deny' : 'permit' }), false);
  const end = at.offset + 8 + readFileSync(join(dir, at.segment)).readUInt32BE(at.offset);
  const whole = verifyLog(dir, { verifiers });
  assert.deepEqual([first(whole)?.seq, first(whole)?.field], [target, 'frame'], JSON.stringify(first(whole)));
  assert.match(first(whole)!.reason, /CRC-32C mismatch: the record bytes changed/);
  // Were the piece cut right after the damaged record, nothing would follow it in the piece: it would look torn.
  assert.deepEqual(verifyLog(dir, { verifiers, pieceBytes: end }), whole);
  assert.deepEqual(await verifyLogParallel(dir, { verifiers, pieceBytes: end, workers: 1, minBytes: 0 }), whole);
});

test('the last record of a chain, altered, is caught by the signed checkpoint after it', async () => {
  const dir = copy();
  const seqs = seqsOf(dir, 'c');
  const target = seqs[seqs.length - 1]!;
  rewrite(dir, target, (r) => ({ ...r, effect: 'permit' }));
  const r = await verify(dir, { verifiers });
  assert.equal(r.ok, false);
  const p = r.problems.find((x) => x.field === 'root');
  assert.ok(p && p.seq > target, JSON.stringify(r.problems));
});

test('a deleted record is reported as missing at its position', async () => {
  const dir = copy();
  const target = seqsOf(dir, 'a')[10]!;
  const at = locate(dir, target);
  const path = join(dir, at.segment);
  const bytes = readFileSync(path);
  const length = bytes.readUInt32BE(at.offset);
  writeFileSync(path, Buffer.concat([bytes.subarray(0, at.offset), bytes.subarray(at.offset + 8 + length)]));
  const p = first(await verify(dir, { verifiers }))!;
  assert.deepEqual([p.seq, p.field], [target, 'seq']);
});

test('records cut from the end, while the snapshot remembers them, are reported: one record is enough', async () => {
  const dir = copy();
  const active = readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort()
    .at(-1)!;
  const size = recordCount(dir);
  const last = locate(dir, size - 1);
  assert.equal(last.segment, active);
  // The last record is removed; the snapshot, written at close, counted it.
  writeFileSync(join(dir, active), readFileSync(join(dir, active)).subarray(0, last.offset));
  const report = await verify(dir, { verifiers });
  assert.equal(report.ok, false);
  const cut = report.problems.find((p) => p.field === 'size')!;
  assert.equal(
    cut.reason,
    `the log held ${size} records when last snapshotted and now holds ${size - 1}: records were removed from its end`,
  );
});

test('segments: a missing, renamed or edited sealed segment, or a damaged manifest, is reported at the segment', async () => {
  const segments = readdirSync(fixture)
    .filter((f) => f.endsWith('.wal'))
    .sort();
  const firstSeqOf = (s: string) => Number(/(\d+)/.exec(s)![1]);
  // Missing.
  let dir = copy();
  unlinkSync(join(dir, segments[1]!));
  let p = first(await verify(dir, { verifiers }))!;
  assert.deepEqual([p.seq, p.field, p.segment], [firstSeqOf(segments[1]!), 'segment', segments[2]]);
  // Out of order: two sealed segments swap names.
  dir = copy();
  renameSync(join(dir, segments[1]!), join(dir, 'x'));
  renameSync(join(dir, segments[2]!), join(dir, segments[1]!));
  renameSync(join(dir, 'x'), join(dir, segments[2]!));
  p = first(await verify(dir, { verifiers }))!;
  assert.equal(p.field, 'segment');
  assert.equal(p.seq, firstSeqOf(segments[1]!));
  // Manifest edited, and removed.
  dir = copy();
  const manifest = join(dir, segments[0]!.replace('.wal', '.manifest.json'));
  writeFileSync(
    manifest,
    readFileSync(manifest, 'utf8').replace(/"root":"(.)/, (_m, c: string) => `"root":"${c === 'f' ? 'e' : 'f'}`),
  );
  p = first(await verify(dir, { verifiers }))!;
  assert.deepEqual([p.seq, p.field, p.segment], [0, 'manifest', segments[0]]);
  unlinkSync(manifest);
  assert.match(first(await verify(dir, { verifiers }))!.reason, /no readable manifest/);
  // A sealed segment with a byte appended: its manifest no longer matches.
  dir = copy();
  writeFileSync(join(dir, segments[1]!), Buffer.concat([readFileSync(join(dir, segments[1]!)), Buffer.from([0])]));
  assert.ok(
    (await verify(dir, { verifiers })).problems.some((x) => x.segment === segments[1] && (x.field === 'manifest' || x.field === 'frame')),
  );
});

test('the active segment emptied or zeroed (its header gone with its records) is reported, as opening refuses it', async () => {
  const segments = readdirSync(fixture)
    .filter((f) => f.endsWith('.wal'))
    .sort();
  const active = segments.at(-1)!;
  for (const bytes of [Buffer.alloc(0), Buffer.alloc(readFileSync(join(fixture, active)).length), Buffer.from([0, 0, 0])]) {
    const dir = copy();
    writeFileSync(join(dir, active), bytes);
    unlinkSync(join(dir, 'snapshot.json'));
    await assert.rejects(AuditLog.open(dir), /missing segment header/);
    const report = await verify(dir, { verifiers });
    assert.equal(report.ok, false);
    assert.deepEqual([first(report)!.field, first(report)!.segment], ['segment', active]);
  }
});

test("a sealed segment's time bound is checked: one that would hide records from a window's readers is reported", async () => {
  const segments = readdirSync(fixture)
    .filter((f) => f.endsWith('.manifest.json'))
    .sort();
  const dir = copy();
  const manifest = join(dir, segments[1]!);
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as { max_time: string; segment: string; first_seq: number };
  assert.match(m.max_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  writeFileSync(manifest, JSON.stringify({ ...m, max_time: '2000-01-01T00:00:00.000Z' }));
  const p = first(await verify(dir, { verifiers }))!;
  assert.deepEqual([p.seq, p.field, p.segment], [m.first_seq, 'max_time', m.segment]);
  assert.match(p.reason, /2000-01-01T00:00:00\.000Z/);
  // Not a time at all: the manifest is malformed.
  writeFileSync(manifest, JSON.stringify({ ...m, max_time: 'soon' }));
  assert.deepEqual(first(await verify(dir, { verifiers }))!.reason, 'the manifest is malformed');
});

test('checkpoints: only pinned keys count; a forged or altered checkpoint is reported at its record', async () => {
  const other = new Ed25519Signer('faramesh/test', newEd25519Key());
  let r = await verify(fixture, { verifiers: [other] });
  assert.equal(r.ok, false);
  const checkpoints = r.problems.filter((p) => p.field === 'note');
  assert.equal(checkpoints.length, r.checkpoints.total, 'every checkpoint fails under the wrong key');
  assert.match(checkpoints[0]!.reason, /pinned/);
  assert.equal((await verify(fixture, { verifiers: [] })).checkpoints.verified, 0);

  // The key recorded in the log is never trusted: forging a checkpoint with a key the attacker swaps in fails.
  const dir = copy();
  let target = -1;
  for (let seq = 0; target < 0; seq++) if (locate(dir, seq).record.type === 'checkpoint') target = seq;
  rewrite(dir, target, (rec) => ({ ...rec, note: String(rec.note).replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) - 1}\n`) }));
  r = await verify(dir, { verifiers });
  assert.deepEqual([first(r)?.seq, first(r)?.field], [target, 'note']);
});

test('policy continuity: a decision under a policy never applied is reported', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  await log.append(policyApplied());
  await log.append(decision('a', 1));
  await log.append(decision('a', 2, { policy_version: 'ee'.repeat(32) }));
  await log.append(decision('a', 3, { dev: true }));
  await log.close();
  const r = await verify(dir, { verifiers: [] });
  assert.deepEqual([first(r)?.seq, first(r)?.field], [2, 'policy_version']);
  assert.equal(r.dev, 1, 'dev-tagged records are counted');
  assert.equal(POLICY.length, 64);
});

test('approvals: a decision permitted by one follows its grant, names the same operator, and spends it once', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  const grant = (id: string, by: string) =>
    log.append({ type: 'approval_resolved', agent_id: 'a', action_id: `action-${id}`, approval_id: id, outcome: 'approved', by });
  const spend = (i: number, id: string, by: string) =>
    log.append(decision('a', i, { approval: { id, approved_by: by, at: '2026-05-17T10:00:00Z' } }));
  await log.append(policyApplied());
  await spend(1, 'apr-early', 'alice'); // 1: before any grant
  await grant('apr-early', 'alice');
  await spend(3, 'apr-early', 'alice'); // 3: fine
  await spend(4, 'apr-early', 'alice'); // 4: spent twice
  await grant('apr-bob', 'bob');
  await spend(6, 'apr-bob', 'mallory'); // 6: another operator
  await log.append({
    type: 'approval_resolved',
    agent_id: 'a',
    action_id: 'action-x',
    approval_id: 'apr-no',
    outcome: 'denied',
    by: 'bob',
  });
  await spend(8, 'apr-no', 'bob'); // 8: denied, never granted
  await log.close();
  const r = await verify(dir, { verifiers: [] });
  assert.deepEqual(
    r.problems.map((p) => [p.seq, p.field, p.reason]),
    [
      [1, 'approval', 'no approval_resolved record before this decision approves apr-early'],
      [4, 'approval', 'apr-early was already spent: an approval permits one call'],
      [6, 'approval', 'approved_by says mallory, but apr-bob was approved by bob'],
      [8, 'approval', 'no approval_resolved record before this decision approves apr-no'],
    ],
  );
});

test('a torn tail in the active segment is reported as pending, not as damage; --from/--to count a window', async () => {
  const dir = copy();
  const segments = readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort();
  const active = join(dir, segments[segments.length - 1]!);
  tearTail(active, [0, 0, 1, 0, 9, 9]);
  const r = await verify(dir, { verifiers, from: Date.now() + 3_600_000 });
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  assert.equal(r.pendingTail?.bytes, 6);
  assert.equal(r.inWindow, 0);
  assert.equal((await verify(dir, { verifiers, from: 0, to: Date.now() + 1000 })).inWindow, r.records);
});

test('on worker threads, clean runs are folded from summaries, others whole, and runs that do not join are scanned again', () => {
  assert.ok(runs.summary > 0 && runs.scan > 0 && runs.rescanned > 0, JSON.stringify(runs));
});

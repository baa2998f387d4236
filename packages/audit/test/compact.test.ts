import { test } from 'node:test';
import assert from 'node:assert/strict';

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuditLog,
  Ed25519Signer,
  latestCheckpoint,
  leafHashHex,
  readArchivedRecords,
  LogFollower,
  newEd25519Key,
  proveInclusion,
  readBase,
  readRecords,
  verifyLog,
  verifyLogParallel,
} from '../src/index.js';
import { decision, policyApplied, tmp } from './helpers.js';

const signer = new Ed25519Signer('faramesh/test', newEd25519Key());
const verifiers = [signer];
const FUTURE = () => Date.now() + 60_000;

/** A log of several sealed segments, an approval granted in the first and spent after the cut. */
async function filled(records = 60) {
  const dir = tmp();
  const wal = join(dir, 'wal');
  const archiveDir = join(dir, 'archive');
  const { log } = await AuditLog.open(wal, { signer, checkpointEvery: 10, maxSegmentBytes: 4000 });
  await log.append(policyApplied());
  await log.append({ type: 'approval_resolved', action_id: 'a1', approval_id: 'apv-1', outcome: 'approved', by: 'alice' });
  for (let i = 0; i < records; i++) await log.append(decision(`agent-${i % 3}`, i));
  return { dir, wal, archiveDir, log };
}

const segmentsOf = (wal: string) =>
  readdirSync(wal)
    .filter((f) => f.endsWith('.wal'))
    .sort();

test('compact: old sealed segments move to one archive; the live log goes on from the base and verifies, with or without the archive', async () => {
  const { wal, archiveDir, log } = await filled();
  const before = segmentsOf(wal);
  const size = log.size;
  const result = await log.compact({ before: FUTURE(), archiveDir, by: 'ops' });
  assert.ok(result.segments >= 2 && result.records > 0, JSON.stringify(result));
  assert.equal(result.size, result.records);
  assert.ok(existsSync(result.archive!));
  // The compacted segments and their manifests are gone; the active one stays.
  const after = segmentsOf(wal);
  assert.equal(after.length, before.length - result.segments);
  assert.equal(Number(/seg-(\d+)/.exec(after[0]!)![1]), result.size);
  // The compaction is a record of the log, naming the base.
  const records = readRecords(wal);
  assert.equal(records[0]!.seq, result.size);
  const compacted = records.find((r) => r.record.type === 'log_compacted')!;
  assert.equal(compacted.record.size, result.size);
  assert.equal(compacted.record.by, 'ops');
  // The approval granted before the cut is spent after it: the base carries it.
  await log.append(decision('agent-0', 99, { approval: { id: 'apv-1', approved_by: 'alice', at: '2026-11-22T05:00:00Z' } }));
  await log.close();

  const report = verifyLog(wal, { verifiers });
  assert.deepEqual(report.problems, []);
  assert.ok(report.ok);
  assert.deepEqual(report.compacted, { records: result.size, segments: result.segments, archives: 1, included: false });
  assert.ok(report.records > size && report.checkpoints.verified > 0);
  const full = verifyLog(wal, { verifiers, includeArchived: true });
  assert.deepEqual(full.problems, []);
  assert.equal(full.compacted!.included, true);
  assert.equal(full.records, report.records);
  // The parallel verifier reads the same sources.
  const parallel = await verifyLogParallel(wal, { verifiers, includeArchived: true, minBytes: 0, workers: 2, runFrames: 7 });
  assert.deepEqual(parallel.problems, []);

  // Proofs still reach the compacted leaves (the tree is whole); a compacted record is said to be archived.
  const last = readRecords(wal).at(-3)!;
  assert.ok(proveInclusion(wal, `action-${String(last.record.id)}`, verifiers).proof.length > 0);
  assert.ok(latestCheckpoint(wal, verifiers)!.size > result.size);
  assert.throws(() => proveInclusion(wal, 'action-01JD3Z5Q8X9K2M4N6P7R8S9T0V', verifiers), /compacted into archive files/);

  // Reopened from its snapshot, or by a full scan from the base, it goes on where it stopped.
  for (const dropSnapshot of [false, true]) {
    if (dropSnapshot) rmSync(join(wal, 'snapshot.json'));
    const { log: again, report: opened } = await AuditLog.open(wal, { signer });
    assert.equal(opened.snapshot, dropSnapshot ? 'absent' : 'used');
    await again.append(decision('agent-1', 100));
    await again.close();
    assert.deepEqual(verifyLog(wal, { verifiers }).problems, []);
  }
});

test('compact: a second compaction extends the base; nothing newer than `before` or past `maxSeq` moves', async () => {
  const { wal, archiveDir, log } = await filled(90);
  assert.deepEqual(await log.compact({ before: Date.parse('2000-01-01T00:00:00Z'), archiveDir }), { records: 0, segments: 0, size: 0 });
  await assert.rejects(log.compact({ before: FUTURE(), archiveDir: join(wal, 'old') }), /inside the log directory/);
  const behind = new LogFollower(wal);
  assert.equal(behind.poll(3).length, 3);
  const first = await log.compact({ before: FUTURE(), archiveDir, maxSeq: 30 });
  // A reader left inside a compacted segment is told where it went.
  assert.throws(() => behind.poll(), /compacted into .*wal-\d+-\d+\.archive/);
  assert.ok(first.size <= 30 && first.size > 0, JSON.stringify(first));
  for (let i = 0; i < 60; i++) await log.append(decision('agent-9', i));
  const second = await log.compact({ before: FUTURE(), archiveDir });
  assert.ok(second.size > first.size && second.records === second.size - first.size);
  await log.close();
  // The archived records read back, in order, as they were written (their leaf hashes are the base's).
  const archived = readArchivedRecords(wal);
  assert.deepEqual(
    archived.map((r) => r.seq),
    Array.from({ length: second.size }, (_, i) => i),
  );
  const leaves = readFileSync(join(wal, readBase(wal)!.base.leaves.file));
  assert.ok(archived.every((r, i) => leafHashHex(r.payload) === leaves.subarray(i * 32, i * 32 + 32).toString('hex')));
  assert.equal(readArchivedRecords(wal).length + readRecords(wal).length, readRecords(wal).at(-1)!.seq + 1);
  const base = readBase(wal)!.base;
  assert.equal(base.archives.length, 2);
  assert.equal(readdirSync(wal).filter((f) => f.endsWith('.leaves')).length, 1, 'the old leaves file is replaced');
  assert.deepEqual(verifyLog(wal, { verifiers }).problems, []);
  assert.deepEqual(verifyLog(wal, { verifiers, includeArchived: true }).problems, []);
});

test('compact: a base, leaves file or archive altered after the compaction is caught', async () => {
  const { dir, wal, archiveDir, log } = await filled();
  const result = await log.compact({ before: FUTURE(), archiveDir });
  await log.close();
  const keep = join(dir, 'keep');
  mkdirSync(keep);
  const files = ['base.json', readBase(wal)!.base.leaves.file];
  for (const f of files) copyFileSync(join(wal, f), join(keep, f));
  const restore = () => files.forEach((f) => copyFileSync(join(keep, f), join(wal, f)));
  const problems = (o: { includeArchived?: boolean } = {}) => verifyLog(wal, { verifiers, ...o }).problems;

  // A policy version slipped into the base: no log_compacted record names that base.
  const base = JSON.parse(readFileSync(join(wal, 'base.json'), 'utf8')) as { policies: string[] };
  base.policies.push('cd'.repeat(32));
  writeFileSync(join(wal, 'base.json'), JSON.stringify(base));
  assert.ok(
    problems().some((p) => p.field === 'base'),
    'base altered',
  );
  restore();

  // A leaf hash changed.
  const leavesFile = join(wal, files[1]!);
  const leaves = readFileSync(leavesFile);
  leaves[5]! ^= 1;
  writeFileSync(leavesFile, leaves);
  assert.ok(
    problems().some((p) => p.field === 'leaves'),
    'leaves altered',
  );
  restore();

  // An archived byte changed: only a verify that reads the archives can tell.
  const archive = result.archive!;
  const bytes = readFileSync(archive);
  bytes[bytes.length - 10]! ^= 1;
  writeFileSync(archive, bytes);
  assert.deepEqual(problems(), []);
  assert.ok(problems({ includeArchived: true }).some((p) => p.field === 'archive'));
  assert.throws(() => readArchivedRecords(wal), /no longer matches its SHA-256/);
  rmSync(archive);
  assert.match(problems({ includeArchived: true }).find((p) => p.field === 'archive')!.reason, /cannot be read/);

  // The base removed: the live log no longer starts at seq 0, and the log refuses to open.
  rmSync(join(wal, 'base.json'));
  assert.ok(problems().some((p) => p.field === 'segment'));
  await assert.rejects(AuditLog.open(wal), /segment is missing|starts at seq/);
});

test('compact: interrupted after the base was written, the next open finishes it; before, nothing is lost', async () => {
  const { dir, wal, archiveDir, log } = await filled();
  const aside = join(dir, 'aside');
  mkdirSync(aside);
  for (const f of readdirSync(wal)) if (/^seg-.*\.(wal|manifest\.json)$/.test(f)) copyFileSync(join(wal, f), join(aside, f));
  await log.compact({ before: FUTURE(), archiveDir });
  await log.close();
  const live = segmentsOf(wal);
  // The compacted segments back in place: as if the crash came just after the base was written.
  for (const f of readdirSync(aside)) if (!existsSync(join(wal, f))) copyFileSync(join(aside, f), join(wal, f));
  assert.ok(segmentsOf(wal).length > live.length);
  assert.deepEqual(verifyLog(wal, { verifiers }).problems, []);
  const { log: again } = await AuditLog.open(wal, { signer });
  assert.deepEqual(segmentsOf(wal), live.length ? segmentsOf(wal).filter((s) => s >= live[0]!) : []);
  await again.close();
  assert.deepEqual(verifyLog(wal, { verifiers }).problems, []);

  // Before the base was written: the record of the compaction is there, every segment too.
  for (const f of readdirSync(aside)) copyFileSync(join(aside, f), join(wal, f));
  rmSync(join(wal, 'base.json'));
  rmSync(join(wal, 'snapshot.json'));
  const report = verifyLog(wal, { verifiers });
  assert.deepEqual(report.problems, []);
  assert.equal(report.compacted, undefined);
});

test('compact: a base altered after its compaction is not built on by the next one (the edit would be vouched for)', async () => {
  const { wal, archiveDir, log } = await filled(60);
  await log.compact({ before: FUTURE(), archiveDir, maxSeq: 30 });
  await log.close();
  const base = JSON.parse(readFileSync(join(wal, 'base.json'), 'utf8')) as { approvals: Record<string, unknown> };
  base.approvals['apv-evil'] = { by: 'mallory', spent: false };
  writeFileSync(join(wal, 'base.json'), JSON.stringify(base));
  assert.ok(verifyLog(wal, { verifiers }).problems.some((p) => p.field === 'base'));
  const { log: again } = await AuditLog.open(wal, { signer, checkpointEvery: 10, maxSegmentBytes: 4000 });
  for (let i = 0; i < 30; i++) await again.append(decision('agent-1', 500 + i));
  await assert.rejects(again.compact({ before: FUTURE(), archiveDir }), /no log_compacted record names the current base/);
  await again.append(decision('agent-1', 999, { approval: { id: 'apv-evil', approved_by: 'mallory', at: '2026-11-22T05:00:00Z' } }));
  await again.close();
  assert.ok(verifyLog(wal, { verifiers }).problems.some((p) => p.field === 'base'));
});

test('compact: a base whose edge or chain tips are malformed is refused as malformed, not a TypeError', async () => {
  const { wal, archiveDir, log } = await filled();
  await log.compact({ before: FUTURE(), archiveDir });
  await log.close();
  const text = readFileSync(join(wal, 'base.json'), 'utf8');
  const edits: ((b: { tips: Record<string, unknown>; edge: unknown }) => void)[] = [
    (b) => (b.tips[Object.keys(b.tips)[0]!] = 5),
    (b) => (b.edge = [1, 2]),
    (b) => (b.edge = [{}]),
    (b) => (b.edge = [['zz', 3]]),
  ];
  for (const edit of edits) {
    const base = JSON.parse(text) as { tips: Record<string, unknown>; edge: unknown };
    edit(base);
    writeFileSync(join(wal, 'base.json'), JSON.stringify(base));
    // A problem of the log, reported at the base like any other (a throw would read as "no log").
    for (const r of [verifyLog(wal, { verifiers }), await verifyLogParallel(wal, { verifiers, minBytes: 0, workers: 2 })]) {
      assert.equal(r.ok, false);
      assert.deepEqual(
        r.problems.map((p) => [p.segment, p.field, p.reason]),
        [['base.json', 'base', 'the base of the compacted log is malformed']],
      );
    }
  }
});

test('compact: an approval spent before the cut stays spent after it, with or without the archives', async () => {
  const { wal, archiveDir, log } = await filled(10);
  const spend = (i: number) => decision('agent-0', i, { approval: { id: 'apv-1', approved_by: 'alice', at: '2026-11-22T05:00:00Z' } });
  await log.append(spend(100));
  // A second grant of the same approval changes nothing: it was spent.
  await log.append({ type: 'approval_resolved', action_id: 'a1', approval_id: 'apv-1', outcome: 'approved', by: 'alice' });
  for (let i = 0; i < 60; i++) await log.append(decision('agent-2', i));
  assert.ok((await log.compact({ before: FUTURE(), archiveDir })).records > 12);
  assert.deepEqual(readBase(wal)!.base.approvals['apv-1'], { by: 'alice', spent: true });
  await log.append(spend(101));
  await log.close();
  for (const includeArchived of [false, true])
    assert.match(
      verifyLog(wal, { verifiers, includeArchived }).problems.find((p) => p.field === 'approval')?.reason ?? '',
      /already spent/,
      `includeArchived: ${includeArchived}`,
    );
});

test('compact: an archive of the same name from another log in a shared archive directory is never replaced', async () => {
  const a = await filled();
  const b = await filled();
  const shared = join(a.dir, 'shared-archive');
  const first = await a.log.compact({ before: FUTURE(), archiveDir: shared });
  await a.log.close();
  const kept = readFileSync(first.archive!);
  // The same segment boundaries give the same archive name: the second log must not take it over.
  assert.equal(planName(b.wal), planName(a.wal, first.size));
  await assert.rejects(b.log.compact({ before: FUTURE(), archiveDir: shared }), /already exists and holds other records/);
  assert.deepEqual(readFileSync(first.archive!), kept);
  assert.deepEqual(verifyLog(a.wal, { verifiers, includeArchived: true }).problems, []);
  // Nothing of the refused compaction was recorded or removed.
  assert.equal(readBase(b.wal), undefined);
  assert.equal(readRecords(b.wal)[0]!.seq, 0);
  await b.log.close();
  assert.deepEqual(verifyLog(b.wal, { verifiers }).problems, []);
});

/** The end seq of a log's first sealed segments (its live ones, or `size` once compacted). */
function planName(wal: string, size?: number): number {
  if (size !== undefined) return size;
  const segs = segmentsOf(wal).map((s) => Number(/seg-(\d+)/.exec(s)![1]));
  return segs[segs.length - 1]!;
}

test('compact: compactions into different archive directories all verify with --include-archived', async () => {
  const { dir, wal, archiveDir, log } = await filled(90);
  const elsewhere = join(dir, 'elsewhere');
  const first = await log.compact({ before: FUTURE(), archiveDir: elsewhere, maxSeq: 30 });
  assert.ok(first.size > 0, JSON.stringify(first));
  for (let i = 0; i < 60; i++) await log.append(decision('agent-9', i));
  const second = await log.compact({ before: FUTURE(), archiveDir });
  assert.ok(second.records > 0 && existsSync(second.archive!) && existsSync(first.archive!));
  await log.close();
  assert.deepEqual(verifyLog(wal, { verifiers, includeArchived: true }).problems, []);
  // --archive naming one of the directories: the other archive is still found where it was written.
  assert.deepEqual(verifyLog(wal, { verifiers, includeArchived: true, archiveDir: elsewhere }).problems, []);
  // Both moved together somewhere else: --archive finds them there.
  const moved = join(dir, 'moved');
  mkdirSync(moved);
  for (const f of [first.archive!, second.archive!]) {
    copyFileSync(f, join(moved, f.slice(f.lastIndexOf('/') + 1)));
    rmSync(f);
  }
  assert.deepEqual(verifyLog(wal, { verifiers, includeArchived: true, archiveDir: moved }).problems, []);
  const missing = verifyLog(wal, { verifiers, includeArchived: true }).problems;
  assert.match(missing[0]!.reason, new RegExp(`the archive file ${elsewhere}/wal-\\d+-\\d+\\.archive cannot be read`));
});

test('an open removes leaves files the base does not name (a crash left the previous one, or one whose base was never written)', async () => {
  const { wal, archiveDir, log } = await filled();
  const first = await log.compact({ before: FUTURE(), archiveDir });
  const firstLeaves = readBase(wal)!.base.leaves.file;
  const kept = readFileSync(join(wal, firstLeaves));
  for (let i = 0; i < 40; i++) await log.append(decision(`agent-${i % 3}`, 100 + i));
  const second = await log.compact({ before: FUTURE(), archiveDir });
  assert.ok(second.size > first.size);
  await log.close();
  // As a crash after the second base was written, before the first leaves file was removed, leaves it;
  // and a first compaction cut short before its base leaves one of a size no base names.
  writeFileSync(join(wal, firstLeaves), kept);
  writeFileSync(join(wal, 'base-0000000000000003.leaves'), Buffer.alloc(96));
  const { log: reopened } = await AuditLog.open(wal, { signer });
  await reopened.close();
  assert.deepEqual(
    readdirSync(wal).filter((f) => f.endsWith('.leaves')),
    [readBase(wal)!.base.leaves.file],
  );
  assert.deepEqual(verifyLog(wal, { verifiers }).problems, []);
});

test('compact: the copy a compaction from the same record left when it was killed mid-copy is removed; others are not', async () => {
  const { archiveDir, log } = await filled(90);
  mkdirSync(archiveDir, { recursive: true });
  // Killed while copying records 0… when the log ended at 70; another log's copy from 500 on.
  const left = join(archiveDir, '.wal-0000000000000000-0000000000000070.archive.tmp');
  const other = join(archiveDir, '.wal-0000000000000500-0000000000000600.archive.tmp');
  writeFileSync(left, 'x'.repeat(1000));
  writeFileSync(other, 'y');
  const done = await log.compact({ before: FUTURE(), archiveDir });
  assert.ok(done.size > 0);
  await log.close();
  assert.ok(!existsSync(left), 'the interrupted copy is gone');
  assert.ok(existsSync(other), 'a copy from elsewhere is left alone');
});

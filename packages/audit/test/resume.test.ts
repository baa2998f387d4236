/**
 * A log whose write or sync failed (a full disk) resumes once the disk takes writes again: cut back
 * to what was acknowledged, so no record of a refused batch stays, and appending on the same chain.
 */
import { mock, test } from 'node:test';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import assert from 'node:assert/strict';
import { unlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, Ed25519Signer, newEd25519Key, readRecords, verifyLog } from '../src/index.js';
import { delta, tmp } from './helpers.js';

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** Make `name` of node:fs throw ENOSPC while `full()` says so; returns the restore. */
function failing(name: 'fdatasyncSync' | 'writeSync', full: () => boolean): () => void {
  const real = fs[name] as (...a: unknown[]) => unknown;
  const m = mock.method(fs, name, (...args: unknown[]) => {
    if (full()) throw enospc();
    return real(...args);
  });
  syncBuiltinESMExports();
  return () => {
    m.mock.restore();
    syncBuiltinESMExports();
  };
}

for (const where of ['fdatasyncSync', 'writeSync'] as const)
  test(`a failed ${where === 'writeSync' ? 'write' : 'sync'}: refused appends leave no record, and the log resumes where it was acknowledged`, async () => {
    const dir = tmp();
    const signer = new Ed25519Signer('faramesh/test', newEd25519Key());
    const { log } = await AuditLog.open(dir, { signer });
    for (let i = 0; i < 5; i++) await log.append(delta('a', i));
    let full = true;
    const restore = failing(where, () => full);
    try {
      await assert.rejects(log.append(delta('a', 100)), /ENOSPC/);
      await assert.rejects(log.append(delta('a', 101)), /refuses appends/, 'failed: later appends are refused');
      assert.equal(log.resume(), false, 'the disk is still full');
      full = false;
      assert.equal(log.resume(), true);
    } finally {
      restore();
    }
    for (let i = 5; i < 8; i++) await log.append(delta('a', i));
    await log.close();
    const written = readRecords(dir).map((r) => r.record);
    assert.deepEqual(
      written.filter((r) => r.type === 'state_delta').map((r) => (r.delta as { i: number }).i),
      [0, 1, 2, 3, 4, 5, 6, 7],
      'every acknowledged record, and none that was refused',
    );
    assert.deepEqual(
      written.map((r) => r.seq),
      written.map((_, i) => i),
      'one unbroken sequence',
    );
    const report = verifyLog(dir, { verifiers: [signer] });
    assert.ok(report.ok, JSON.stringify(report.problems));
  });

// A batch whose write reached the file and whose sync then failed was refused to its callers. A log
// closed while failed (a daemon stopped, or killed, before the disk had room) once opened again with
// it: a refused call read back as decided, its rate and budget use counted again by the replay.
test('a refused batch is not in the file while the log is failed, nor after it is closed and reopened', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  for (let i = 0; i < 3; i++) await log.append(delta('a', i));
  const restore = failing('fdatasyncSync', () => true);
  try {
    await assert.rejects(log.append(delta('a', 100)), /ENOSPC/);
  } finally {
    restore();
  }
  const deltas = () =>
    readRecords(dir)
      .map((r) => r.record)
      .filter((r) => r.type === 'state_delta')
      .map((r) => (r.delta as { i: number }).i);
  assert.deepEqual(deltas(), [0, 1, 2], 'a crash now finds only what was acknowledged');
  await log.close();
  const reopened = await AuditLog.open(dir);
  await reopened.log.append(delta('a', 3));
  await reopened.log.close();
  assert.deepEqual(deltas(), [0, 1, 2, 3], 'reopened where it was acknowledged');
  const report = verifyLog(dir, { verifiers: [] });
  assert.ok(report.ok, JSON.stringify(report.problems));
});

test('a log whose segment was removed under it does not resume: what the file held is gone', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  await log.append(delta('a', 0));
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.wal'))) unlinkSync(join(dir, f));
  await assert.rejects(log.append(delta('a', 1)), /removed or replaced/);
  assert.equal(log.resume(), false);
  await assert.rejects(log.append(delta('a', 2)), /refuses appends/);
  await log.close();
});

// A rotation seals the full segment (its manifest) and starts the next (its header), each written
// whole or not at all: a full disk at either step must leave a log that resumes, not one failed for good.
for (const step of ['manifest', 'segment header'] as const)
  test(`a rotation cut short at its ${step} (a full disk) resumes once the disk takes writes, losing nothing`, async () => {
    const dir = tmp();
    const signer = new Ed25519Signer('faramesh/test', newEd25519Key());
    const { log } = await AuditLog.open(dir, { signer, maxSegmentBytes: 4096 });
    // `cut`: the rotation's file cannot be written; `full`: nothing can (the segment's preallocation included).
    let cut = false;
    let full = false;
    const target = step === 'manifest' ? /manifest\.json\.tmp$/ : /\.wal\.tmp$/;
    const real = fs.writeFileSync;
    const m = mock.method(fs, 'writeFileSync', (...args: Parameters<typeof fs.writeFileSync>) => {
      if (full || (cut && target.test(String(args[0])))) throw enospc();
      return real(...args);
    });
    const restoreWrites = failing('writeSync', () => full);
    let acked = 0;
    try {
      cut = true;
      // Appended one at a time: each is acknowledged before the next, so the one refused is the first after the cut.
      for (; acked < 100; acked++)
        try {
          await log.append(delta('a', acked));
        } catch {
          break;
        }
      assert.ok(acked > 0 && acked < 100, `the rotation failed after ${acked} records`);
      await assert.rejects(log.append(delta('a', 1000)), /refuses appends/);
      full = true;
      assert.equal(log.resume(), false, 'the disk is still full');
      cut = full = false;
      assert.equal(log.resume(), true, 'the disk takes writes again');
    } finally {
      restoreWrites();
      m.mock.restore();
      syncBuiltinESMExports();
    }
    for (let i = acked; i < acked + 40; i++) await log.append(delta('a', i));
    await log.close();
    const written = readRecords(dir).map((r) => r.record);
    assert.deepEqual(
      written.filter((r) => r.type === 'state_delta').map((r) => (r.delta as { i: number }).i),
      Array.from({ length: acked + 40 }, (_, i) => i),
      'every acknowledged record, and none that was refused',
    );
    assert.ok(readdirSync(dir).filter((f) => f.endsWith('.manifest.json')).length >= 2, 'segments were sealed after the resume');
    const report = verifyLog(dir, { verifiers: [signer] });
    assert.ok(report.ok, JSON.stringify(report.problems));
  });

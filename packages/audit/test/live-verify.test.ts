/**
 * `audit verify` beside a running daemon: the daemon appends, writes a newer snapshot and seals the
 * active segment while verify reads. None of that is damage. Simulated here at the file level, at
 * the moment verify has read the last segment's records but not yet judged the log: the directory
 * becomes what the writer made of it meanwhile (the same prefix, then more records, a sealed
 * segment with its manifest, a new segment, a newer snapshot).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, Ed25519Signer, newEd25519Key, verifyLog, verifyLogParallel, type VerifyReport } from '../src/index.js';
import { decision, policyApplied, tmp } from './helpers.js';

const signer = new Ed25519Signer('faramesh/test', newEd25519Key());
const verifiers = [signer];
const SEGMENT = 8500;

/** The log as verify lists it, and the same log after the writer went on: a rotation and a newer snapshot. */
async function beforeAndAfter(): Promise<{ before: string; after: string }> {
  const after = tmp();
  let { log } = await AuditLog.open(after, { signer, checkpointEvery: 10, maxSegmentBytes: SEGMENT });
  await log.append(policyApplied());
  for (let i = 0; i < 12; i++) await log.append(decision(['a', 'b'][i % 2]!, i));
  await log.close();
  const before = tmp();
  cpSync(after, before, { recursive: true });
  const segments = () => readdirSync(after).filter((f) => f.endsWith('.wal')).length;
  const count = segments();
  ({ log } = await AuditLog.open(after, { signer, checkpointEvery: 10, maxSegmentBytes: SEGMENT }));
  // Until the active segment is sealed and the next one started.
  for (let i = 0; segments() === count; i++) await log.append(decision(['a', 'b'][i % 2]!, 100 + i));
  await log.append(decision('a', 999));
  await log.close();
  return { before, after };
}

/** Verify `before`; once its last segment's records are read, the writer's later files land in it. */
async function verifyWhileWritten(parallel: boolean): Promise<VerifyReport> {
  const { before, after } = await beforeAndAfter();
  const active = readdirSync(before)
    .filter((f) => f.endsWith('.wal'))
    .sort()
    .at(-1)!;
  // Progress past the sealed segments: the active segment's records are being read.
  const sealedBytes = readdirSync(before)
    .filter((f) => f.endsWith('.wal') && f !== active)
    .reduce((n, f) => n + statSync(join(before, f)).size, 0);
  let landed = false;
  const onProgress = (done: number) => {
    if (landed || done <= sealedBytes) return;
    landed = true;
    for (const f of readdirSync(after)) if (f !== 'LOCK') cpSync(join(after, f), join(before, f));
  };
  const report = parallel
    ? await verifyLogParallel(before, { verifiers, onProgress, workers: 2, minBytes: 0, runFrames: 3 })
    : verifyLog(before, { verifiers, onProgress });
  assert.ok(landed, 'the writer went on while verify read');
  return report;
}

for (const parallel of [false, true])
  test(`verify beside a writer that appends, snapshots and seals meanwhile reports no problem (${parallel ? 'workers' : 'inline'})`, async () => {
    const report = await verifyWhileWritten(parallel);
    assert.deepEqual(
      report.problems.map((p) => `${p.field}: ${p.reason}`),
      [],
    );
    assert.equal(report.ok, true);
  });

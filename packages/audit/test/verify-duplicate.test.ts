import { test } from 'node:test';
import assert from 'node:assert/strict';

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, Ed25519Signer, newEd25519Key, verifyLog } from '../src/index.js';
import { decision, policyApplied, tmp } from './helpers.js';
import { locate } from './tamper.js';

const signer = new Ed25519Signer('faramesh/test', newEd25519Key());

async function build(): Promise<string> {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { signer, checkpointEvery: 10 });
  await log.append(policyApplied());
  for (let i = 0; i < 20; i++) await log.append(decision('a', i));
  await log.close();
  return dir;
}

/** Insert a second copy of record `seq`'s frame right after it (a replayed or duplicated write). */
function duplicate(dir: string, seq: number): void {
  const at = locate(dir, seq);
  const path = join(dir, at.segment);
  const bytes = readFileSync(path);
  const end = at.offset + 8 + bytes.readUInt32BE(at.offset);
  writeFileSync(path, Buffer.concat([bytes.subarray(0, end), bytes.subarray(at.offset, end), bytes.subarray(end)]));
}

test('a record duplicated in place is named as the copy, never as the original "altered after it was written"', async () => {
  for (const target of [5, 12]) {
    const dir = await build();
    duplicate(dir, target);
    const report = verifyLog(dir, { verifiers: [signer] });
    assert.equal(report.ok, false);
    // The original at `target` is intact: nothing may blame it.
    assert.deepEqual(
      report.problems.filter((p) => p.seq === target),
      [],
      `seq ${target}: ${JSON.stringify(report.problems.slice(0, 3))}`,
    );
    const copy = report.problems.filter((p) => p.seq === target + 1);
    assert.equal(report.problems[0]!.seq, target + 1);
    assert.ok(
      copy.some((p) => p.field === 'duplicate' && p.reason.includes(`copy of seq ${target}`)),
      JSON.stringify(copy),
    );
  }
});

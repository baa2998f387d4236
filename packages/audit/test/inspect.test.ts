import { test } from 'node:test';
import assert from 'node:assert/strict';

import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, Ed25519Signer, encodeVerifierKey, inspectLog, newEd25519Key } from '../src/index.js';
import { decision, policyApplied, tmp } from './helpers.js';

const signer = new Ed25519Signer('faramesh/test', newEd25519Key());

test('wal inspect: sealed segments from manifests, the active one read, the last record, the latest checkpoint, snapshot and writer', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { signer, checkpointEvery: 10, maxSegmentBytes: 4000 });
  await log.append(policyApplied());
  for (let i = 0; i < 40; i++) await log.append(decision('a', i));
  const open = inspectLog(dir);
  assert.deepEqual(open.writer, { pid: process.pid, alive: true });
  await log.close();

  const w = inspectLog(dir);
  const sealed = w.segments.filter((s) => s.state === 'sealed');
  assert.ok(sealed.length >= 2, `${sealed.length} sealed segments`);
  assert.equal(w.segments.at(-1)!.state, 'active');
  assert.ok(sealed.every((s) => /^[0-9a-f]{64}$/.test(s.root!) && s.problem === undefined));
  // Every record is counted once: the segments follow each other.
  w.segments.slice(1).forEach((s, i) => assert.equal(s.first_seq, w.segments[i]!.first_seq + w.segments[i]!.records));
  assert.equal(w.records, w.last!.seq + 1);
  // close() appends a final checkpoint; it is the last record.
  assert.equal(w.last!.type, 'checkpoint');
  assert.deepEqual([w.checkpoint!.seq, w.checkpoint!.size, w.checkpoint!.key], [w.last!.seq, w.last!.seq, encodeVerifierKey(signer)]);
  assert.equal(typeof w.snapshot === 'object' && w.snapshot !== null ? w.snapshot.size : -1, w.records);
  assert.equal(w.writer, null);

  // A lost manifest and a damaged snapshot are named, and the rest is still read.
  unlinkSync(
    join(
      dir,
      readdirSync(dir)
        .filter((f) => f.endsWith('.manifest.json'))
        .sort()[0]!,
    ),
  );
  writeFileSync(join(dir, 'snapshot.json'), '{}');
  writeFileSync(join(dir, 'LOCK'), '999999999');
  const damaged = inspectLog(dir);
  assert.match(damaged.segments[0]!.problem!, /manifest/);
  assert.equal(damaged.snapshot, 'damaged');
  assert.deepEqual(damaged.writer, { pid: 999999999, alive: false });
  assert.deepEqual(damaged.checkpoint, w.checkpoint);
  assert.throws(() => inspectLog(tmp()), /no audit log/);
});

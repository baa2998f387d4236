import { mock, test } from 'node:test';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AuditLog,
  GENESIS_HASH,
  LogCorruptError,
  LogLockedError,
  subtreeRoot,
  leafHash,
  verifyLog,
  readVerifierKeys,
  publicKeyFile,
  leafAt,
  LogFollower,
  readRecords,
  eachRecord,
  writeDurable,
  Ed25519Signer,
  newEd25519Key,
  MerkleFrontier,
} from '../src/index.js';
import { locate, rewrite } from './tamper.js';
import { canonicalJson } from '@faramesh/protocol';
import { createHash } from 'node:crypto';

import { delta, tearTail, tmp } from './helpers.js';
// The chain link is the Merkle leaf hash of the previous record: H(0x00 ‖ canonical bytes).
const sha = (s: string) =>
  createHash('sha256')
    .update(Buffer.from([0]))
    .update(s)
    .digest('hex');

test('appends are sequenced, chained per agent, durable, and survive reopening', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  const a1 = await log.append(delta('a', 0, { tool: 't1' }));
  const b1 = await log.append(delta('b', 0, { tool: 't2' }));
  const a2 = await log.append(delta('a', 0, { tool: 't3' }));
  assert.deepEqual([a1.seq, b1.seq, a2.seq], [0, 1, 2]);
  assert.deepEqual([a1.lamport_seq, b1.lamport_seq, a2.lamport_seq], [0, 0, 1]);
  assert.equal(a1.prev_hash, GENESIS_HASH);
  assert.equal(a2.prev_hash, sha(canonicalJson(a1)), "a2 links to a's previous record");
  const root = log.root();
  assert.deepEqual(Buffer.from(root), Buffer.from(subtreeRoot([a1, b1, a2].map((e) => leafHash(Buffer.from(canonicalJson(e)))))));
  await log.close();
  const { log: again, report } = await AuditLog.open(dir);
  assert.equal(report.records, 3);
  assert.deepEqual(Buffer.from(again.root()), Buffer.from(root));
  const a3 = await again.append(delta('a', 0, { tool: 't4' }));
  assert.equal(a3.seq, 3);
  assert.equal(a3.lamport_seq, 2);
  assert.equal(a3.prev_hash, sha(canonicalJson(a2)));
  await again.close();
});

test('chains named by agent ids like __proto__ or constructor survive the snapshot and a reopen', async () => {
  const dir = tmp();
  const ids = ['__proto__', 'constructor', 'toString'];
  const { log } = await AuditLog.open(dir);
  const firsts = [];
  for (const id of ids) firsts.push(await log.append(delta(id, 0)));
  await log.close(); // writes the snapshot the next open resumes from
  const { log: again } = await AuditLog.open(dir);
  for (const [i, id] of ids.entries()) {
    const next = await again.append(delta(id, 1));
    assert.equal(next.lamport_seq, 1, `${id}: the chain goes on`);
    assert.equal(next.prev_hash, sha(canonicalJson(firsts[i])), `${id}: linked to its first record`);
  }
  await again.close();
  assert.deepEqual(verifyLog(dir, { verifiers: [] }).problems, []);
});

test('group commit: concurrent appends share fsyncs, and each resolves only when durable', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  const entries = await Promise.all(Array.from({ length: 64 }, (_, i) => log.append(delta(`a${i % 4}`, i))));
  assert.deepEqual(
    entries.map((e) => e.seq),
    Array.from({ length: 64 }, (_, i) => i),
    'call order is log order',
  );
  assert.ok(log.fsyncs < 64 / 2, `${log.fsyncs} fsyncs for 64 appends`);
  await log.close();
  assert.equal((await AuditLog.open(dir).then(async (r) => (await r.log.close(), r.report))).records, 64);
});

test('a busy log syncs on the threadpool: appends queue behind the sync, settled() waits for it, snapshots and rotation stay exact', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 4096, snapshotEvery: 7 });
  const all: Promise<unknown>[] = [];
  for (let wave = 0; wave < 30; wave++) {
    // Sixteen at once: a pipelined batch. More arrive while it syncs.
    for (let i = 0; i < 16; i++) all.push(log.append(delta(`a${i % 3}`, wave * 100 + i)));
    await new Promise((r) => setImmediate(r));
    const count = log.size;
    for (let i = 0; i < 3; i++) all.push(log.append(delta('late', wave * 100 + 50 + i)));
    // Everything appended before settled() was called is on disk once it resolves.
    await log.settled();
    assert.ok(readRecords(dir).length >= count + 3, `wave ${wave}: settled before the records were durable`);
  }
  await Promise.all(all);
  assert.ok(log.fsyncs < all.length / 4, `${log.fsyncs} fsyncs for ${all.length} appends`);
  await log.close();
  assert.ok(readdirSync(dir).filter((f) => f.endsWith('.manifest.json')).length > 3, 'segments were sealed under load');
  // The snapshot written last is exact: opening from it reads the same log a full scan does.
  const { log: again, report } = await AuditLog.open(dir);
  assert.equal(report.records, all.length);
  await again.close();
  unlinkSync(join(dir, 'snapshot.json'));
  const { log: scanned, report: full } = await AuditLog.open(dir);
  assert.equal(full.records, all.length);
  await scanned.close();
  assert.deepEqual(verifyLog(dir, { verifiers: [] }).problems, []);
});

/** Hold every threadpool fdatasync for `ms`, so what happens "meanwhile" does not depend on the disk. */
async function withHeldThreadpoolSyncs(ms: number, body: (calls: () => number) => Promise<void>): Promise<void> {
  const real = fs.fdatasync;
  const threadpool = mock.method(fs, 'fdatasync', (fd: number, cb: (e: Error | null) => void) =>
    real(fd, (e) => void setTimeout(() => cb(e), ms)),
  );
  syncBuiltinESMExports();
  try {
    await body(() => threadpool.mock.callCount());
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
  }
}

const turn = () => new Promise((r) => setImmediate(r));

test('busy(): a lone record syncs on the threadpool, so appends made meanwhile share the next fsync; a quiet log syncs inline', async () => {
  await withHeldThreadpoolSyncs(30, async (threadpool) => {
    for (const busy of [true, false]) {
      const { log } = await AuditLog.open(tmp(), { busy: () => busy });
      const before = threadpool();
      const appended = [log.append(delta('a', 0))];
      for (let i = 1; i < 5; i++) {
        await turn();
        appended.push(log.append(delta('a', i)));
      }
      await Promise.all(appended);
      if (busy) {
        assert.equal(log.fsyncs, 2, 'the first record alone, then the four appended while it synced');
        assert.equal(threadpool() - before, 2);
      } else {
        assert.equal(log.fsyncs, 5, 'inline: each record synced before the next was appended');
        assert.equal(threadpool() - before, 0);
      }
      await log.close();
    }
  });
});

test('large batches sync on the threadpool only while appends arrive during its syncs; otherwise inline, with a probe every 16', async () => {
  await withHeldThreadpoolSyncs(30, async (threadpool) => {
    const { log } = await AuditLog.open(tmp());
    const batch = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => log.append(delta(`a${i % 4}`, i))));
    await batch(16);
    assert.equal(threadpool(), 1, 'the first large batch tries the threadpool');
    for (let i = 0; i < 15; i++) await batch(16);
    assert.equal(threadpool(), 1, 'nothing arrived during that sync: the next 15 large batches sync inline');
    assert.equal(log.fsyncs, 16);
    // The 16th is a probe; this time three appends arrive while it syncs.
    const probe = batch(16);
    await turn();
    const late = batch(3);
    await Promise.all([probe, late]);
    assert.equal(threadpool(), 2, 'the probe went to the threadpool; the three late ones (a small batch) synced inline');
    await batch(16);
    assert.equal(threadpool(), 3, 'appends arrived during the probe: large batches use the threadpool again');
    await log.close();
  });
});

test('no append resolves before an fdatasync that covers it, inline or on the threadpool', async () => {
  let syncs = 0;
  mock.method(fs, 'fdatasyncSync', (fd: number) => (syncs++, void fd));
  mock.method(fs, 'fdatasync', (fd: number, cb: (e: Error | null) => void) => (syncs++, void fd, setImmediate(() => cb(null))));
  syncBuiltinESMExports();
  try {
    const { log } = await AuditLog.open(tmp());
    for (let i = 0; i < 5; i++) {
      const before = syncs;
      await log.append(delta('a', i));
      assert.ok(syncs > before, `append ${i} resolved after a sync`);
    }
    const before = syncs;
    await Promise.all(Array.from({ length: 32 }, (_, i) => log.append(delta(`b${i % 4}`, i))));
    assert.ok(syncs > before, 'a batch resolved after a sync');
    await log.close();
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
  }
});

test('one writer per directory', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  await assert.rejects(AuditLog.open(dir), LogLockedError);
  await log.close();
  const { log: again } = await AuditLog.open(dir);
  await again.close();
});

test('a lock left by a killed writer whose pid another process now has is stale: the log opens', async () => {
  const dir = tmp();
  const lock = join(dir, 'LOCK');
  const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
  const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  // The pid is alive (our parent's), but the writer that held it started at another time.
  writeFileSync(lock, `${process.ppid} ${Number(started) + 1}`);
  const { log } = await AuditLog.open(dir);
  assert.match(readFileSync(lock, 'utf8'), new RegExp(`^${process.pid} \\d+$`));
  await log.close();
  // The very process still running holds it, with or without its start time.
  for (const text of [`${process.ppid} ${started}`, String(process.ppid)]) {
    writeFileSync(lock, text);
    await assert.rejects(AuditLog.open(dir), LogLockedError);
  }
});

test('a stale lock taken over by another process meanwhile is not taken from it: one writer, never two', async () => {
  const dir = tmp();
  const lock = join(dir, 'LOCK');
  writeFileSync(lock, '999999999'); // left by a process that died
  // Another process (alive: our parent) judged it stale too and took it over right after we read it.
  const read = fs.readFileSync;
  let raced = false;
  mock.method(fs, 'readFileSync', (...args: Parameters<typeof read>) => {
    const out = read(...args);
    if (!raced && args[0] === lock) {
      raced = true;
      fs.unlinkSync(lock);
      fs.writeFileSync(lock, String(process.ppid));
    }
    return out;
  });
  syncBuiltinESMExports();
  try {
    await assert.rejects(AuditLog.open(dir), (e: unknown) => e instanceof LogLockedError && e.message.includes(`process ${process.ppid}`));
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
  }
  assert.ok(raced);
  assert.equal(readFileSync(lock, 'utf8'), String(process.ppid), "the other process's lock is left in place");
  assert.deepEqual(readdirSync(dir).sort(), ['LOCK'], 'no temporary lock file is left behind');
});

test('a torn final frame is truncated and reported; every whole record is kept', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  for (let i = 0; i < 5; i++) await log.append(delta('a', i));
  await log.close();
  const seg = join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.wal'))!,
  );
  const before = tearTail(seg, [0, 0, 0, 40, 1, 2, 3, 4, 5, 6]);
  const { log: again, report } = await AuditLog.open(dir);
  assert.deepEqual(report.truncated, { segment: 'seg-0000000000000000.wal', offset: before, bytes: 10 });
  assert.equal(report.records, 5);
  assert.equal(readFileSync(seg).length, before);
  assert.equal((await again.append(delta('a', 9))).seq, 5);
  await again.close();
});

test('damage before the tail refuses to open, naming the segment, byte and record', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  for (let i = 0; i < 5; i++) await log.append(delta('a', i));
  await log.close();
  // Without a snapshot, opening reads everything (history behind a snapshot is `audit verify`'s job).
  unlinkSync(join(dir, 'snapshot.json'));
  const seg = join(dir, 'seg-0000000000000000.wal');
  const bytes = readFileSync(seg);
  const at = bytes.indexOf('"i":2');
  bytes[at + 4] = '9'.charCodeAt(0);
  writeFileSync(seg, bytes);
  await assert.rejects(
    AuditLog.open(dir),
    (e: unknown) => e instanceof LogCorruptError && e.segment === 'seg-0000000000000000.wal' && /checksum/.test(e.reason) && e.seq === 2,
  );
  assert.equal(readFileSync(seg).length, bytes.length, 'nothing was truncated');
});

test('a record altered on disk (checksum fixed, chain re-linked) refuses to open: the log is never signed over it', async () => {
  const signer = new Ed25519Signer('faramesh/test', newEd25519Key());
  const make = async () => {
    const dir = tmp();
    const { log } = await AuditLog.open(dir, { signer, checkpointEvery: 4 });
    for (let i = 0; i < 10; i++) await log.append(delta(i % 2 ? 'a' : 'b', i));
    await log.close();
    // The attacker removes the snapshot, so that the next open reads everything.
    unlinkSync(join(dir, 'snapshot.json'));
    return dir;
  };
  const opens = (dir: string, why: RegExp) =>
    assert.rejects(AuditLog.open(dir, { signer }), (e: unknown) => e instanceof LogCorruptError && why.test(e.reason));
  // A plain edit with its checksum fixed: the next record of its chain no longer links to it.
  let dir = await make();
  rewrite(dir, 1, (r) => ({ ...r, delta: { i: 99 } }));
  await opens(dir, /does not link to the previous record of its chain/);
  // The same edit with every later link of its chain rewritten: the checkpoint after it no longer matches.
  dir = await make();
  const victim = locate(dir, 3).record;
  rewrite(dir, 3, (r) => ({ ...r, delta: { i: 99 } }));
  let prev = leafHash(Buffer.from(canonicalJson(locate(dir, 3).record))).toString('hex');
  for (let seq = 4; seq < 13; seq++) {
    const r = locate(dir, seq).record;
    if (r.agent_id !== victim.agent_id) continue;
    rewrite(dir, seq, (x) => ({ ...x, prev_hash: prev }));
    prev = leafHash(Buffer.from(canonicalJson(locate(dir, seq).record))).toString('hex');
  }
  await opens(dir, /no longer match the checkpoint/);
  // A checkpoint whose root was forged to match: its signature by the log's own key fails.
  const cp = Array.from({ length: 14 }, (_, seq) => locate(dir, seq).record).find((r) => r.type === 'checkpoint' && Number(r.size) > 3)!;
  const frontier = new MerkleFrontier();
  for (let seq = 0; seq < Number(cp.size); seq++) frontier.append(leafHash(Buffer.from(canonicalJson(locate(dir, seq).record))));
  const [origin, size, , ...rest] = String(cp.note).split('\n');
  rewrite(dir, Number(cp.seq), (r) => ({
    ...r,
    note: [origin, size, Buffer.from(frontier.root()).toString('base64'), ...rest].join('\n'),
  }));
  await opens(dir, /not signed by the key it names|does not link/);
});

test('sealed segments: rotation writes manifests; a missing or edited segment refuses to open', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 300 });
  for (let i = 0; i < 40; i++) await log.append(delta('a', i, { payload: 'x'.repeat(20) }));
  await log.close();
  const segments = readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort();
  assert.ok(segments.length >= 3, `${segments.length} segments`);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.manifest.json')).length, segments.length - 1);
  const { log: ok, report } = await AuditLog.open(dir, { maxSegmentBytes: 300 });
  assert.equal(report.records, 40);
  await ok.close();

  const edited = join(dir, segments[1]!);
  const original = readFileSync(edited);
  const copy = Buffer.from(original);
  copy[copy.length - 3]! ^= 1;
  writeFileSync(edited, copy);
  const snapshot = readFileSync(join(dir, 'snapshot.json'));
  unlinkSync(join(dir, 'snapshot.json'));
  await assert.rejects(AuditLog.open(dir), LogCorruptError);
  writeFileSync(join(dir, 'snapshot.json'), snapshot);
  writeFileSync(edited, copy.subarray(0, copy.length - 1));
  await assert.rejects(
    AuditLog.open(dir),
    /no longer matches its manifest \(length\)/,
    'with a snapshot, a sealed segment of the wrong length',
  );
  writeFileSync(edited, original);
  unlinkSync(edited);
  await assert.rejects(AuditLog.open(dir), /a segment is missing or out of order/);
  writeFileSync(edited, original);

  // The first segment (and its manifest) taken away: the snapshot's contiguity checks start after it.
  const first = join(dir, segments[0]!);
  const firstManifest = first.replace(/\.wal$/, '.manifest.json');
  const saved = [readFileSync(first), readFileSync(firstManifest)] as const;
  unlinkSync(first);
  unlinkSync(firstManifest);
  await assert.rejects(AuditLog.open(dir), (e: unknown) => e instanceof LogCorruptError && /a segment is missing/.test(e.reason));
  // Every segment before the snapshot's taken away: the snapshot's segment comes first.
  writeFileSync(first, saved[0]);
  writeFileSync(firstManifest, saved[1]);
  const snapAt = (JSON.parse(JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')).body) as { segment: string }).segment;
  for (const s of segments.filter((s) => s < snapAt)) {
    unlinkSync(join(dir, s));
    unlinkSync(join(dir, s.replace(/\.wal$/, '.manifest.json')));
  }
  await assert.rejects(AuditLog.open(dir), (e: unknown) => e instanceof LogCorruptError && /a segment is missing/.test(e.reason));
});

test('opening resumes from the snapshot and reads only the tail; a bad snapshot means a full scan', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 2000, snapshotEvery: 25 });
  for (let i = 0; i < 60; i++) await log.append(delta(`a${i % 3}`, i));
  const root = Buffer.from(log.root());
  // Not closed: the last snapshot was taken at 50 records, so 10 are tail.
  await log.close();
  const { log: again, report } = await AuditLog.open(dir, { maxSegmentBytes: 2000 });
  assert.equal(report.snapshot, 'used');
  assert.equal(report.scanned, 0, 'closing snapshots everything');
  assert.equal(report.records, 60);
  assert.deepEqual(Buffer.from(again.root()), root);
  const next = await again.append(delta('a1', 60));
  assert.equal(next.lamport_seq, 20, 'per-chain state came from the snapshot');
  await again.close();

  // A damaged snapshot is ignored: the full scan rebuilds the same state.
  const snap = join(dir, 'snapshot.json');
  writeFileSync(snap, readFileSync(snap, 'utf8').replace('"size\\":61', '"size\\":62'));
  const { log: third, report: full } = await AuditLog.open(dir, { maxSegmentBytes: 2000 });
  assert.equal(full.snapshot, 'unusable');
  assert.equal(full.scanned, 61);
  assert.equal((await third.append(delta('a1', 61))).lamport_seq, 21);
  await third.close();
});

test('damage after the snapshot refuses to open; a segment cut short of the snapshot too', async () => {
  const dir = tmp();
  const snap = join(dir, 'snapshot.json');
  const { log } = await AuditLog.open(dir, { snapshotEvery: 3 });
  for (let i = 0; i < 3; i++) await log.append(delta('a', i));
  const early = readFileSync(snap);
  for (let i = 3; i < 5; i++) await log.append(delta('a', i));
  await log.close();
  // As if the process died after record 4 with the snapshot taken at 3.
  writeFileSync(snap, early);
  const seg = join(dir, 'seg-0000000000000000.wal');
  const bytes = readFileSync(seg);
  const copy = Buffer.from(bytes);
  copy[copy.indexOf('"i":3') + 4] = '8'.charCodeAt(0);
  writeFileSync(seg, copy);
  await assert.rejects(AuditLog.open(dir), (e: unknown) => e instanceof LogCorruptError && /checksum/.test(e.reason) && e.seq === 3);
  const snapshotOffset = (JSON.parse(JSON.parse(early.toString()).body) as { offset: number }).offset;
  writeFileSync(seg, bytes.subarray(0, snapshotOffset - 1));
  await assert.rejects(AuditLog.open(dir), /shorter than the snapshot says/);
  writeFileSync(seg, bytes);
  const { log: again, report } = await AuditLog.open(dir);
  assert.deepEqual([report.snapshot, report.scanned, report.records], ['used', 2, 5]);
  await again.close();
});

test('acknowledged records zeroed before the snapshot offset refuse to open, not leave a hole new records hide behind', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir);
  for (let i = 0; i < 5; i++) await log.append(delta('a', i));
  await log.close();
  const snap = JSON.parse(JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')).body) as { size: number; last: { offset: number } };
  assert.equal(snap.size, 5);
  const seg = join(dir, 'seg-0000000000000000.wal');
  const bytes = readFileSync(seg);
  // The last two records (3 and 4) zeroed: what a reader sees as the end of the records.
  const third = bytes.indexOf('"i":3');
  const start = bytes.lastIndexOf(Buffer.from('{'), third) - 8;
  const copy = Buffer.from(bytes);
  copy.fill(0, start, snap.last.offset + 200);
  writeFileSync(seg, copy);
  await assert.rejects(
    AuditLog.open(dir),
    (e: unknown) => e instanceof LogCorruptError && /the record the snapshot ends at \(seq 4\) is not there/.test(e.reason),
  );
  writeFileSync(seg, bytes);
  const { log: again, report } = await AuditLog.open(dir);
  assert.deepEqual([report.snapshot, report.records], ['used', 5]);
  await again.close();
});

test('a snapshot that cannot be written harms no append: the records are durable, and it is said', async () => {
  const dir = tmp();
  const said: string[] = [];
  const { log } = await AuditLog.open(dir, { snapshotEvery: 2, warn: (m) => said.push(m) });
  // Its temporary file cannot be written (as on a full disk, or a directory made read-only).
  mkdirSync(join(dir, '.snapshot.json.tmp'));
  for (let i = 0; i < 5; i++) await log.append(delta('a', i));
  assert.match(String(log.lastSnapshotError), /EISDIR/);
  assert.match(said[0]!, /could not write its snapshot/);
  await assert.rejects(log.close(), /EISDIR/, 'closing says so too');
  rmdirSync(join(dir, '.snapshot.json.tmp'));
  const { log: again, report } = await AuditLog.open(dir);
  assert.equal(report.records, 5, 'every acknowledged record is there');
  await again.close();
});

test('segments taken away while the snapshot remembers them refuse to open: a fresh log would erase the evidence', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 300 });
  for (let i = 0; i < 30; i++) await log.append(delta('a', i, { payload: 'x'.repeat(20) }));
  await log.close();
  const segments = readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort();
  const saved = new Map(segments.map((f) => [f, readFileSync(join(dir, f))]));
  // The active segment (the one the snapshot ends in) removed.
  unlinkSync(join(dir, segments.at(-1)!));
  await assert.rejects(AuditLog.open(dir), /the segment is missing, but the snapshot remembers 30 records/);
  // Every segment removed.
  for (const f of segments) if (saved.has(f) && readdirSync(dir).includes(f)) unlinkSync(join(dir, f));
  await assert.rejects(AuditLog.open(dir), /the log's segments are gone, but its snapshot remembers 30 records/);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.wal')),
    [],
    'nothing was created in their place',
  );
  for (const [f, bytes] of saved) writeFileSync(join(dir, f), bytes);
  const { log: back, report } = await AuditLog.open(dir, { maxSegmentBytes: 300 });
  assert.equal(report.records, 30);
  await back.close();
});

for (const compacting of [false, true])
  test(`crash: SIGKILL at random moments never loses an acknowledged record${compacting ? ', compactions running' : ''}`, async () => {
    const trials = Number(process.env.FARAMESH_CRASH_TRIALS ?? (compacting ? 8 : 12));
    const child = fileURLToPath(new URL('crash-child.js', import.meta.url));
    let compacted = false;
    // On a loaded machine the child may not reach a compaction before the early kills: trials go on,
    // with later kills, until one has (a bounded number more).
    for (let t = 0; t < trials || (compacting && !compacted && t < trials * 3); t++) {
      const later = compacting && !compacted && t >= trials / 2 ? 400 * Math.min(4, t - Math.floor(trials / 2) + 1) : 0;
      const dir = tmp();
      let acked = -1;
      for (let round = 0; round < (compacting ? 3 : 2); round++) {
        const proc = spawn(process.execPath, [child, dir, ...(compacting ? ['compact'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
        let buf = '';
        proc.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) acked = Math.max(acked, Number(l));
        });
        await new Promise((r) => setTimeout(r, 80 + later + Math.floor(Math.random() * 250)));
        proc.kill('SIGKILL');
        await new Promise((r) => proc.once('exit', r));
        const { log, report } = await AuditLog.open(join(dir, 'wal'), { maxSegmentBytes: 4096 });
        assert.ok(report.records > acked, `trial ${t}: ${report.records} records on disk, ${acked + 1} acknowledged`);
        await log.close();
        const verifiers = existsSync(publicKeyFile(dir)) ? readVerifierKeys(publicKeyFile(dir)) : [];
        const verified = verifyLog(join(dir, 'wal'), { verifiers });
        assert.deepEqual(verified.problems, [], `trial ${t}: the log verifies after the crash`);
        if (compacting) compacted ||= existsSync(join(dir, 'wal', 'base.json'));
        if (compacting)
          assert.deepEqual(
            verifyLog(join(dir, 'wal'), { verifiers, includeArchived: true }).problems,
            [],
            `trial ${t}: and with its archives read`,
          );
      }
    }
    if (compacting) assert.ok(compacted, 'the kills landed among compactions');
  });

test('tip and settled: a position captured with the state it describes; a follower resumes there, across a rotation', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 4096 });
  for (let i = 0; i < 5; i++) await log.append(delta('a', i));
  const pending = [log.append(delta('a', 5)), log.append(delta('b', 0))];
  const tip = log.tip();
  assert.equal(tip.seq, 7);
  // Captured while records are queued: settled() resolves only once they are durable.
  await log.settled();
  assert.equal(readRecords(dir).length, 7);
  await Promise.all(pending);
  assert.equal(leafAt(dir, tip.last!.segment, tip.last!.offset), tip.last!.leaf);
  assert.equal(leafAt(dir, tip.last!.segment, tip.last!.offset + 1), undefined, 'not a frame boundary');
  // Enough more records to seal the segment the tip points into.
  for (let i = 0; i < 60; i++) await log.append(delta('c', i, { pad: 'x'.repeat(64) }));
  await log.close();
  assert.ok(
    readdirSync(dir).some((f) => f.endsWith('.manifest.json')),
    'a segment was sealed',
  );
  const tail = new LogFollower(dir, tip).poll();
  assert.deepEqual(
    tail.map((r) => r.seq),
    readRecords(dir)
      .slice(7)
      .map((r) => r.seq),
  );
  assert.equal(tail[0]!.seq, 7);
  // A position that is not where record `seq` starts is refused, not misread.
  assert.throws(() => new LogFollower(dir, { ...tip, seq: 6 }).poll(), /expected record seq 6/);
  // Bounded polls hand out records a few at a time, and their position resumes a new reader exactly.
  const all = readRecords(dir).map((r) => r.seq);
  const seen: number[] = [];
  for (let reader = new LogFollower(dir); ;) {
    const page = reader.poll(4);
    assert.ok(page.length <= 4);
    if (page.length === 0) break;
    seen.push(...page.map((r) => r.seq));
    // A fresh reader from the saved position: what a restarted sink does.
    reader = new LogFollower(dir, reader.position());
  }
  assert.deepEqual(seen, all);
});

test('a reopened log knows where its last record is: from the snapshot, from a scan, across a rotation', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 4096 });
  for (let i = 0; i < 40; i++) await log.append(delta('a', i, { pad: 'x'.repeat(64) }));
  const before = log.tip();
  await log.close();
  assert.ok(
    readdirSync(dir).some((f) => f.endsWith('.manifest.json')),
    'a segment was sealed',
  );
  const reopen = async () => {
    const { log: again, report } = await AuditLog.open(dir, { maxSegmentBytes: 4096 });
    const tip = again.tip();
    await again.close();
    return { tip, report };
  };
  // From the snapshot close wrote, with no tail to read.
  const fromSnapshot = await reopen();
  assert.equal(fromSnapshot.report.snapshot, 'used');
  assert.equal(fromSnapshot.report.scanned, 0);
  assert.deepEqual(fromSnapshot.tip.last, before.last);
  assert.equal(leafAt(dir, before.last!.segment, before.last!.offset), before.last!.leaf);
  // From a full scan.
  unlinkSync(join(dir, 'snapshot.json'));
  const scanned = await reopen();
  assert.equal(scanned.report.snapshot, 'absent');
  assert.deepEqual(scanned.tip.last, before.last);
  // A snapshot from before it kept the last record still opens the log, and the last record is
  // found by a scan: a state snapshot taken before any append (audit compact with no daemon) must
  // name it, or neither it nor a compacted base's copy of it matches the log again.
  const { log: more } = await AuditLog.open(dir, { maxSegmentBytes: 4096 });
  await more.append(delta('b', 0));
  const after = more.tip();
  await more.close();
  const file = join(dir, 'snapshot.json');
  const outer = JSON.parse(readFileSync(file, 'utf8')) as { body: string };
  const { last: _last, ...older } = JSON.parse(outer.body) as Record<string, unknown>;
  const body = canonicalJson(older);
  writeFileSync(file, canonicalJson({ body, sha256: createHash('sha256').update(body).digest('hex') }));
  const old = await reopen();
  assert.equal(old.tip.seq, after.seq);
  assert.deepEqual(old.tip.last, after.last);
  assert.equal(leafAt(dir, old.tip.last!.segment, old.tip.last!.offset), old.tip.last!.leaf);
  // And the snapshot written at its close keeps it again: the next open reads no records.
  const next = await reopen();
  assert.equal(next.report.snapshot, 'used');
  assert.equal(next.report.scanned, 0);
  assert.deepEqual(next.tip.last, after.last);
});

test('bounded reads cross a sealed segment larger than one read: every record, in order, and then the next segment', async () => {
  const dir = tmp();
  // About 2.5 MiB of records in the first segment, so a bounded poll reads it in several pieces.
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 2_500_000 });
  for (let i = 0; i < 1300; i++) await log.append(delta('a', i, { pad: 'x'.repeat(2000) }));
  for (let i = 0; i < 5; i++) await log.append(delta('b', i));
  await log.close();
  assert.ok(readdirSync(dir).filter((f) => f.endsWith('.wal')).length >= 2, 'the first segment was sealed');
  const all = readRecords(dir).map((r) => r.seq);
  const paged: number[] = [];
  eachRecord(dir, (r) => paged.push(r.seq), undefined, 10_000);
  assert.deepEqual(paged, all);
  const small: number[] = [];
  for (const reader = new LogFollower(dir); ;) {
    const page = reader.poll(700);
    if (page.length === 0) break;
    small.push(...page.map((r) => r.seq));
  }
  assert.deepEqual(small, all);
});

/** The sealed segments of `dir` with their manifests, oldest first. */
const sealedSegments = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.manifest.json'))
    .sort()
    .map((f) => ({
      segment: f.replace('.manifest.json', '.wal'),
      manifest: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>,
    }));

test('a sealed segment keeps its latest record time; readers of a window skip older segments unread', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 600 });
  const base = Date.parse('2026-11-01T00:00:00.000Z');
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
  for (let i = 0; i < 60; i++) {
    // Times mostly rise, but one steps back and one is written with an offset, as callers may.
    const time = i === 25 ? '2026-11-01T02:30:00+02:00' : at(i === 13 ? 2 : i);
    await log.append({ ...delta('a', i), id: `01JD3Z5Q8X9K2M4N6P7R8S${String(i).padStart(4, '0')}`, time });
  }
  await log.close();
  const sealed = sealedSegments(dir);
  assert.ok(sealed.length >= 4, `${sealed.length} sealed segments`);
  const records = readRecords(dir);
  for (const { segment, manifest } of sealed) {
    const times = records.filter((r) => r.segment === segment).map((r) => new Date(String(r.record.time)).toISOString());
    assert.equal(manifest.max_time, times.sort().at(-1), segment);
  }
  assert.deepEqual(verifyLog(dir, { verifiers: [] }).problems, []);

  // Damage a record of the oldest segment (its manifest stays): a reader that entered it would throw.
  const old = join(dir, sealed[0]!.segment);
  const bytes = readFileSync(old);
  bytes[bytes.length - 3]! ^= 1;
  writeFileSync(old, bytes);
  // Its last record, damaged, reads like a write in progress; in a sealed segment that is damage.
  assert.throws(() => eachRecord(dir, () => {}), /a sealed segment ends in a partial or damaged frame/);
  const since = Date.parse(String(sealed[1]!.manifest.max_time)) + 1;
  const seen: number[] = [];
  eachRecord(dir, (r) => seen.push(r.seq), since);
  // Every record at or after `since` is there; what was passed over is whole segments before it.
  const wanted = records.filter((r) => Date.parse(String(r.record.time)) >= since).map((r) => r.seq);
  assert.ok(wanted.length > 0 && wanted.every((seq) => seen.includes(seq)), 'no record of the window is missed');
  assert.equal(seen[0], Number(sealed[2]!.manifest.first_seq), 'the first two sealed segments were skipped');
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => a - b),
  );
  // A follower from the start with no window still reads (and refuses) the damaged segment.
  assert.throws(() => new LogFollower(dir).poll(), LogCorruptError);
});

test('the time bound of the active segment survives a restart from the snapshot', async () => {
  const dir = tmp();
  const late = '2026-11-05T12:00:00.000Z';
  let opened = await AuditLog.open(dir, { maxSegmentBytes: 2000 });
  await opened.log.append({ ...delta('a', 0), id: '01JD3Z5Q8X9K2M4N6P7R8S9T0V', time: late });
  await opened.log.close();
  opened = await AuditLog.open(dir, { maxSegmentBytes: 2000 });
  assert.equal(opened.report.snapshot, 'used');
  // Later records with earlier times (a clock set back): the segment's bound is still the late one.
  for (let i = 1; sealedSegments(dir).length === 0; i++)
    await opened.log.append({
      ...delta('a', i),
      id: `01JD3Z5Q8X9K2M4N6P7R8S${String(i).padStart(4, '0')}`,
      time: '2026-11-01T00:00:00.000Z',
    });
  await opened.log.close();
  assert.equal(sealedSegments(dir)[0]!.manifest.max_time, late);
  assert.deepEqual(verifyLog(dir, { verifiers: [] }).problems, []);
});

test('a record whose time cannot be read leaves its segment unbounded: it is always read', async () => {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { maxSegmentBytes: 400 });
  await log.append({ ...delta('a', 0), id: '01JD3Z5Q8X9K2M4N6P7R8S9T0V', time: 'yesterday' });
  while (sealedSegments(dir).length === 0) await log.append(delta('a', 1));
  await log.close();
  assert.equal(sealedSegments(dir)[0]!.manifest.max_time, undefined);
  const seen: number[] = [];
  eachRecord(dir, (r) => seen.push(r.seq), Date.now() + 60_000);
  assert.equal(seen[0], 0, 'the unbounded segment was read');
});

test('a durable write never goes through what lies at its temp path: a planted symlink or a leftover', () => {
  const dir = tmp();
  const victim = join(tmp(), 'victim');
  writeFileSync(victim, 'untouched');
  symlinkSync(victim, join(dir, '.snapshot.json.tmp'));
  writeDurable(dir, 'snapshot.json', 'new');
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.equal(readFileSync(join(dir, 'snapshot.json'), 'utf8'), 'new');
  writeFileSync(join(dir, '.state.json.tmp'), 'a leftover of a crash, longer than what replaces it');
  writeDurable(dir, 'state.json', 'short');
  assert.equal(readFileSync(join(dir, 'state.json'), 'utf8'), 'short');
  assert.deepEqual(readdirSync(dir).sort(), ['snapshot.json', 'state.json']);
});

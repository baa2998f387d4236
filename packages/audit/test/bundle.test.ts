import { test } from 'node:test';
import assert from 'node:assert/strict';

import { canonicalJson } from '@faramesh/protocol';
import {
  AuditLog,
  Ed25519Signer,
  encodeVerifierKey,
  exportBundle,
  leafHash,
  newEd25519Key,
  rangeProof,
  readRecords,
  signCheckpoint,
  verifyBundle,
  type EvidenceBundle,
} from '../src/index.js';
import { decision, policyApplied, tmp } from './helpers.js';

const signer = new Ed25519Signer('faramesh/test', newEd25519Key());
const mallory = new Ed25519Signer('faramesh/test', newEd25519Key());

/** 60 records over three chains, checkpoints every 10, and 3 records after the last checkpoint. */
async function build(): Promise<string> {
  const dir = tmp();
  const { log } = await AuditLog.open(dir, { signer, checkpointEvery: 10, maxSegmentBytes: 6000 });
  await log.append(policyApplied());
  for (let i = 0; i < 60; i++) await log.append(decision(['a', 'b', 'c'][i % 3]!, i));
  await log.close();
  const reopened = await AuditLog.open(dir, { checkpointEvery: 1000 });
  for (let i = 60; i < 63; i++) await reopened.log.append(decision('a', i));
  await reopened.log.close();
  return dir;
}
const dir = await build();
const all = exportBundle(dir, [signer], {});
const copy = (): EvidenceBundle => structuredClone(all.bundle);

test('an evidence bundle of the whole log verifies offline, with its own keys or pinned ones; what came after the checkpoint is left out', () => {
  // The three appended after it (the checkpoint's own record, which follows the tree it signs, is not counted).
  assert.equal(all.unsigned, 3);
  assert.equal(all.bundle.first_seq, 0);
  assert.equal(all.bundle.records.length, all.bundle.tree_size);
  assert.deepEqual(all.bundle.keys, [encodeVerifierKey(signer)]);
  const own = verifyBundle(JSON.parse(JSON.stringify(all.bundle)));
  assert.deepEqual([own.ok, own.keys_from, own.problems], [true, 'bundle', []]);
  assert.equal(own.chains, 4, 'three agents and the stack');
  assert.equal(own.signed_by[0], encodeVerifierKey(signer).split('+').slice(0, 2).join('+'));
  assert.equal(verifyBundle(all.bundle, [signer]).ok, true);
});

test('a window is proven as a run in the middle of the tree', () => {
  const times = all.bundle.records.map((t) => String((JSON.parse(t) as { time: string }).time));
  const from = Date.parse(times[20]!);
  const to = Date.parse(times[30]!);
  const { bundle } = exportBundle(dir, [signer], { from, to });
  assert.ok(bundle.first_seq <= 20 && bundle.first_seq + bundle.records.length - 1 >= 30);
  assert.ok(bundle.proof.length > 0 && bundle.proof.length < 16);
  assert.equal(verifyBundle(bundle, [signer]).ok, true);
  assert.throws(
    () => exportBundle(dir, [signer], { from: Date.parse('2001-01-01'), to: Date.parse('2001-01-02') }),
    /no records in the window/,
  );
  assert.throws(() => exportBundle(dir, [mallory], {}), /no checkpoint signed by a pinned key/);
});

test('every forgery is caught: a record changed, dropped, reordered or not canonical; a bent proof; another key; a wrong size', async () => {
  const problem = (b: unknown, pinned?: Ed25519Signer[]) => {
    const r = verifyBundle(b, pinned);
    assert.equal(r.ok, false);
    return r.problems[0]!;
  };
  // A decision's effect changed: well formed, but not what was signed.
  let b = copy();
  const i = b.records.findIndex((t) => t.includes('"effect":"deny"'));
  b.records[i] = b.records[i]!.replace('"effect":"deny"', '"effect":"permit"');
  assert.deepEqual(
    verifyBundle(b).problems.map((p) => [p.field, p.seq]),
    [
      ['content', i],
      ['proof', undefined],
    ],
    "the chain's next record no longer links to it, and the run is not what was signed",
  );
  // Dropped from the end, or from the start (the positions no longer match the proof).
  b = copy();
  b.records.pop();
  assert.equal(problem(b).field, 'proof');
  b = copy();
  b.records.shift();
  assert.deepEqual([problem(b).field, problem(b).seq], ['seq', 0]);
  // The same record, keys reordered: the same JSON, not the stored bytes.
  b = copy();
  const parsed = JSON.parse(b.records[5]!) as Record<string, unknown>;
  b.records[5] = JSON.stringify(Object.fromEntries(Object.entries(parsed).reverse()));
  assert.deepEqual([problem(b).field, problem(b).seq], ['record', 5]);
  // A record with a field the schema does not name (argument values) is reported at its record.
  b = copy();
  b.records[7] = canonicalJson({ ...(JSON.parse(b.records[7]!) as object), args: { card: '4242' } });
  assert.ok(verifyBundle(b).problems.some((p) => p.seq === 7 && p.field === 'args'));
  b = copy();
  b.proof = [...b.proof, 'ab'.repeat(32)];
  assert.equal(problem(b).field, 'proof');
  b = copy();
  b.tree_size += 1;
  assert.equal(problem(b).field, 'tree_size');
  // A forger who re-signs the checkpoint with their own key: the bundle alone verifies, under a key id the
  // auditor does not know; against the pinned key it fails.
  b = copy();
  const text = b.checkpoint.split('\n\n')[0]! + '\n';
  const [origin, size, root, time] = text.split('\n');
  b.checkpoint = await signCheckpoint(
    { origin: origin!, size: Number(size), root: Buffer.from(root!, 'base64'), time: time!.slice(5) },
    mallory,
  );
  b.keys = [encodeVerifierKey(mallory)];
  const forged = verifyBundle(b);
  assert.equal(forged.ok, true);
  assert.notEqual(forged.signed_by[0], verifyBundle(copy()).signed_by[0]);
  assert.equal(problem(b, [signer]).field, 'checkpoint');
  // Hostile shapes never crash the verifier.
  for (const hostile of [
    null,
    [],
    'x',
    { format: 'faramesh-audit-bundle/1', __proto__: { records: ['{}'] } },
    { ...copy(), records: [7] },
    { ...copy(), keys: ['nope'] },
  ])
    assert.equal(verifyBundle(hostile).ok, false);
});

test('a broken link is blamed on the record that was altered, never on the intact record after it', () => {
  const at = (b: EvidenceBundle, seq: number) => JSON.parse(b.records[seq]!) as Record<string, unknown>;
  const next = (b: EvidenceBundle, seq: number) => b.records.findIndex((t, k) => k > seq && at(b, k).agent_id === at(b, seq).agent_id);
  const blamed = (b: EvidenceBundle) => verifyBundle(b, [signer]).problems.filter((p) => p.seq !== undefined);
  // A decision in the middle of agent b's chain, its effect changed: its successor still links to what was signed.
  let b = copy();
  const i = b.records.findIndex((t, k) => k > 20 && t.includes('"agent_id":"b"'));
  b.records[i] = b.records[i]!.replace('"effect":"deny"', '"effect":"permit"');
  assert.deepEqual(
    blamed(b).map((p) => [p.field, p.seq]),
    [['content', i]],
    `seq ${i} was altered; seq ${next(b, i)} is intact`,
  );
  // A record's prev_hash edited: it is to blame (its link, and so its hash), not the record before it nor the one after.
  b = copy();
  const j = next(b, i);
  b.records[j] = canonicalJson({ ...at(b, j), prev_hash: 'ee'.repeat(32) });
  assert.deepEqual(
    blamed(b).map((p) => [p.field, p.seq]),
    [
      ['prev_hash', j],
      ['content', j],
    ],
  );
  // A record moved to another agent's chain: the move is named first (the gap it left in its chain's
  // numbering is reported at the next record), not the intact record after the gap.
  b = copy();
  b.records[i] = canonicalJson({ ...at(b, i), agent_id: 'z', agent_svid: 'spiffe://corp.example/z' });
  assert.deepEqual(
    blamed(b).map((p) => [p.field, p.seq]),
    [
      ['agent_id', i],
      ['lamport_seq', j],
    ],
  );
  // A bundle starting in the middle of the log, the altered record the first of its chain in it.
  const { bundle } = exportBundle(dir, [signer], { from: Date.parse(String(at(copy(), 30).time)) });
  const k = bundle.records.findIndex((t, n) => n > 0 && t.includes('"agent_id":"c"'));
  bundle.records[k] = bundle.records[k]!.replace('"effect":"deny"', '"effect":"permit"');
  assert.deepEqual(
    blamed(bundle).map((p) => [p.field, p.seq]),
    [['content', bundle.first_seq + k]],
  );
});

test('the window: a run reaching one record past each end shows nothing of the window was left out; a trimmed run says so', () => {
  const records = readRecords(dir);
  const time = (seq: number) => Date.parse(String(records[seq]!.record.time));
  // Records are appended a millisecond or more apart here only sometimes: pick bounds between distinct times.
  const lo = records.findIndex((r, i) => i >= 20 && time(i) > time(i - 1));
  const hi = records.findIndex((r, i) => i >= 30 && time(i + 1) > time(i));
  const { bundle } = exportBundle(dir, [signer], { from: time(lo), to: time(hi) });
  assert.deepEqual([bundle.first_seq, bundle.first_seq + bundle.records.length - 1], [lo - 1, hi + 1], 'one record past each end');
  const report = verifyBundle(bundle, [signer]);
  assert.equal(report.ok, true);
  assert.deepEqual(report.window, {
    from: new Date(time(lo)).toISOString(),
    to: new Date(time(hi)).toISOString(),
    records: hi - lo + 1,
    complete: { start: true, end: true },
  });
  // The whole log: complete from its first record; its end is the checkpoint's, with records after it.
  assert.deepEqual(verifyBundle(all.bundle, [signer]).window!.complete, { start: true, end: false });
  // A run cut to begin inside the window, with a proof made for the shorter run: authentic, and reported incomplete.
  const leaves = records.map((r) => leafHash(r.payload));
  const trimmed: EvidenceBundle = {
    ...bundle,
    first_seq: lo + 1,
    records: bundle.records.slice(2),
    proof: rangeProof(leaves, lo + 1, hi + 2, bundle.tree_size).map((h) => Buffer.from(h).toString('hex')),
  };
  const cut = verifyBundle(trimmed, [signer]);
  assert.equal(cut.ok, true);
  assert.deepEqual(cut.window!.complete, { start: false, end: true });
  // A claimed window the records are not in.
  const elsewhere = verifyBundle({ ...bundle, window: { from: '2030-01-01T00:00:00.000Z', to: '2030-01-02T00:00:00.000Z' } }, [signer]);
  assert.equal(elsewhere.window!.records, 0);
  assert.equal(verifyBundle({ ...bundle, window: { from: 'yesterday', to: null } }).problems[0]!.field, 'window');
});

test("only keys whose signatures verify are named: a listed key sharing the signer's name is not", async () => {
  const b = copy();
  const text = b.checkpoint.split('\n\n')[0]! + '\n';
  const [origin, size, root, time] = text.split('\n');
  b.checkpoint = await signCheckpoint(
    { origin: origin!, size: Number(size), root: Buffer.from(root!, 'base64'), time: time!.slice(5) },
    mallory,
  );
  // The genuine key listed first, the forger's second: only the forger's verifies, and only it is named.
  b.keys = [encodeVerifierKey(signer), encodeVerifierKey(mallory)];
  const forged = verifyBundle(b);
  assert.deepEqual(forged.signed_by, [encodeVerifierKey(mallory).split('+').slice(0, 2).join('+')]);
  // A rotated key keeps its name: export lists only the key that signed.
  const both = exportBundle(dir, [mallory, signer], {});
  assert.deepEqual(both.bundle.keys, [encodeVerifierKey(signer)]);
});

test('records built to break the checks are reported at their record, never thrown', () => {
  for (const text of ['{"seq":0,"x":1e400}', `${'['.repeat(200_000)}${']'.repeat(200_000)}`, '{"seq":0,"time":"x"}']) {
    const b = { ...copy(), records: [text], first_seq: 0 };
    const r = verifyBundle(b, [signer]);
    assert.equal(r.ok, false);
    assert.equal(r.problems[0]!.seq, 0);
  }
});

test('a bundle whose window reaches into the compacted records says so; one within the live log does not', async () => {
  const wal = tmp();
  const { log } = await AuditLog.open(wal, { signer, checkpointEvery: 10, maxSegmentBytes: 4000 });
  await log.append(policyApplied());
  for (let i = 0; i < 60; i++) await log.append(decision(['a', 'b', 'c'][i % 3]!, i));
  const compacted = await log.compact({ before: Date.now() + 60_000, archiveDir: `${wal}-archive` });
  assert.ok(compacted.records > 0);
  await new Promise((r) => setTimeout(r, 20));
  await log.append(decision('a', 99));
  await log.close();
  const open = exportBundle(wal, [signer], {});
  assert.equal(open.bundle.first_seq, compacted.size, 'the run starts at the live log');
  assert.equal(open.compactedBefore, compacted.size);
  assert.equal(exportBundle(wal, [signer], { from: 0 }).compactedBefore, compacted.size);
  // A window that starts after every archived record leaves nothing of it out.
  const late = readRecords(wal)
    .filter((r) => r.record.type === 'decision')
    .at(-1)!;
  assert.equal(exportBundle(wal, [signer], { from: Date.parse(String(late.record.time)) }).compactedBefore, undefined);
});

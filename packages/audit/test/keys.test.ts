import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign as cryptoSign } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuditLog,
  newEcKey,
  encodeVerifierKey,
  loadStackSigner,
  parseVerifierKey,
  publicKeyFile,
  readVerifierKeys,
  rotateStackKey,
  latestCheckpoint,
  signCheckpoint,
  verifyLog,
  type Signer,
} from '../src/index.js';
import { delta, tmp } from './helpers.js';

test('the stack key is created on first use, private to its owner, and loaded again after', () => {
  const stack = tmp();
  const signer = loadStackSigner(stack, 'faramesh/demo');
  const keys = join(stack, '.faramesh', 'keys');
  assert.equal(statSync(join(keys, 'audit.key')).mode & 0o777, 0o600);
  assert.equal(statSync(keys).mode & 0o777, 0o700);
  const pinned = readVerifierKeys(publicKeyFile(stack));
  assert.equal(pinned.length, 1);
  assert.deepEqual(Buffer.from(pinned[0]!.publicKey), Buffer.from(signer.publicKey));
  assert.deepEqual(Buffer.from(loadStackSigner(stack, 'faramesh/demo').publicKey), Buffer.from(signer.publicKey));
  assert.match(encodeVerifierKey(signer), /^faramesh\/demo\+[0-9a-f]{8}\+A/);
});

test('verifier keys are parsed strictly', () => {
  const stack = tmp();
  const vkey = encodeVerifierKey(loadStackSigner(stack, 'faramesh/demo'));
  assert.equal(parseVerifierKey(vkey).name, 'faramesh/demo');
  assert.throws(() => parseVerifierKey('nonsense'), /not a verifier key/);
  assert.throws(() => parseVerifierKey(vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')), /wrong key id/);
  assert.throws(() => parseVerifierKey(vkey.slice(0, -8)), /an ed25519 key is 32 bytes/);
  const empty = join(stack, 'empty.pub');
  writeFileSync(empty, '# nothing\n');
  assert.throws(() => readVerifierKeys(empty), /no verifier key/);
});

test('rotation: the log records it, and pinned keys old and new verify every checkpoint', async () => {
  const stack = tmp();
  const wal = join(stack, 'faramesh-wal');
  const first = loadStackSigner(stack, 'faramesh/demo');
  let { log } = await AuditLog.open(wal, { signer: first, checkpointEvery: 4 });
  for (let i = 0; i < 6; i++) await log.append(delta('a', i));
  await log.close();
  const second = rotateStackKey(stack, 'faramesh/demo');
  ({ log } = await AuditLog.open(wal, { signer: second, checkpointEvery: 4 }));
  const rotatedAt = log.size - 1;
  for (let i = 6; i < 12; i++) await log.append(delta('a', i));
  await log.close();

  const pinned = readVerifierKeys(publicKeyFile(stack));
  assert.equal(pinned.length, 2, 'the old key stays pinned');
  const r = verifyLog(wal, { verifiers: pinned });
  assert.deepEqual(r.problems, []);
  assert.equal(r.checkpoints.verified, r.checkpoints.total);
  const records = readFileSync(join(wal, 'seg-0000000000000000.wal'), 'utf8');
  assert.equal((records.match(/"type":"key_rotated"/g) ?? []).length, 2, 'the first key and the rotation');
  assert.match(records, /"previous_key":"faramesh\/demo\+/);
  assert.ok(rotatedAt > 6);

  // Pinning only the new key: the checkpoints signed before the rotation no longer verify.
  const onlyNew = verifyLog(wal, { verifiers: [second] });
  assert.equal(onlyNew.ok, false);
  assert.ok(onlyNew.problems.every((p) => p.field === 'note' && p.seq < rotatedAt));
});

test('useSigner: a running log moves to another key (an ECDSA KMS key); what the old key had not signed is signed by it first', async () => {
  const stack = tmp();
  const wal = join(stack, 'wal');
  const local = loadStackSigner(stack, 'faramesh/demo');
  const { log } = await AuditLog.open(wal, { signer: local, checkpointEvery: 1000 });
  for (let i = 0; i < 3; i++) await log.append(delta('a', i));
  const { privateKey, publicKey } = newEcKey('P-256');
  const kms: Signer = {
    name: 'faramesh/demo',
    type: 'ecdsa',
    publicKey: publicKey.export({ format: 'der', type: 'spki' }),
    sign: async (m) => cryptoSign('sha256', m, { key: privateKey, dsaEncoding: 'der' }),
  };
  await log.useSigner(kms);
  await log.useSigner(kms);
  for (let i = 3; i < 6; i++) await log.append(delta('a', i));
  await log.close();
  const records = readFileSync(join(wal, 'seg-0000000000000000.wal'), 'utf8');
  const types = [...records.matchAll(/"type":"(\w+)"/g)].map((m) => m[1]);
  assert.deepEqual(
    types.filter((t) => t !== 'state_delta'),
    ['key_rotated', 'checkpoint', 'key_rotated', 'checkpoint'],
    'the first key, its checkpoint of the first records, the switch (once), the KMS checkpoint at close',
  );
  const both = verifyLog(wal, { verifiers: [local, kms] });
  assert.deepEqual(both.problems, []);
  assert.equal(both.checkpoints.verified, 2);
  const kmsOnly = verifyLog(wal, { verifiers: [kms] });
  assert.deepEqual(
    kmsOnly.problems.map((p) => p.field),
    ['note'],
    'pinning only the KMS key, the checkpoint the local key signed is not trusted',
  );
});

test('after a move to a KMS, a checkpoint signed by the old (host) key is refused, even with both keys pinned', async () => {
  const stack = tmp();
  const wal = join(stack, 'wal');
  const local = loadStackSigner(stack, 'faramesh/demo');
  let { log } = await AuditLog.open(wal, { signer: local });
  for (let i = 0; i < 3; i++) await log.append(delta('a', i));
  const { privateKey, publicKey } = newEcKey('P-256');
  const kms: Signer = {
    name: 'faramesh/demo',
    type: 'ecdsa',
    publicKey: publicKey.export({ format: 'der', type: 'spki' }),
    sign: async (m) => cryptoSign('sha256', m, { key: privateKey, dsaEncoding: 'der' }),
  };
  await log.useSigner(kms);
  for (let i = 3; i < 6; i++) await log.append(delta('a', i));
  await log.close();
  assert.deepEqual(verifyLog(wal, { verifiers: [local, kms] }).problems, []);
  // Root on the host: the stack key is there, the KMS key is not. Append, and sign with the stack key.
  ({ log } = await AuditLog.open(wal, {}));
  await log.append(delta('a', 99, { forged: true }));
  const size = log.size;
  const note = await signCheckpoint({ origin: 'faramesh/demo', size, root: log.root(), time: new Date().toISOString() }, local);
  await log.append({ type: 'checkpoint', size, note, key: encodeVerifierKey(kms) });
  await log.close();
  const r = verifyLog(wal, { verifiers: [local, kms] });
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.problems.map((p) => [p.seq, p.field]),
    [[size, 'note']],
  );
  assert.match(r.problems[0]!.reason, /not by .* the key in force/);
  assert.equal(r.unsigned, 1, 'the forged record is not covered');
  assert.deepEqual(r.unsignedRange, { from: size - 1, to: size - 1 }, 'the forged record, not the checkpoint record after it');
  // `audit checkpoint` (the note to keep off the host) must not hand out the forged one either.
  assert.equal(latestCheckpoint(wal, [local, kms])?.size, size - 2);
});

test('checkpoints come on a timer too, and a failing signer never fails appends', async () => {
  const stack = tmp();
  const signer = loadStackSigner(stack, 'faramesh/demo');
  const { log } = await AuditLog.open(join(stack, 'wal'), { signer, checkpointMs: 20 });
  await log.append(delta('a', 1));
  await new Promise((r) => setTimeout(r, 120));
  assert.ok(log.size >= 3, 'key_rotated, the record, and a timed checkpoint');
  await log.close();

  const broken = {
    name: 'faramesh/demo',
    type: 'ed25519' as const,
    publicKey: signer.publicKey,
    sign: () => Promise.reject(new Error('KMS unreachable')),
  };
  const { log: again } = await AuditLog.open(join(stack, 'wal2'), { signer: broken, checkpointEvery: 1 });
  const entry = await again.append(delta('a', 1));
  assert.equal(entry.seq, 1);
  await again.checkpoint();
  assert.match(again.lastCheckpointError?.message ?? '', /KMS unreachable/);
  await again.close();
});

test('records left unsigned by an earlier run are signed by the next run with the key, even with nothing new', async () => {
  const stack = tmp();
  const wal = join(stack, 'wal');
  const signer = loadStackSigner(stack, 'faramesh/demo');
  let { log } = await AuditLog.open(wal, { signer });
  await log.append(delta('a', 1));
  await log.close();
  // A run without the signer (or one that crashed before its checkpoint) leaves two records unsigned.
  ({ log } = await AuditLog.open(wal));
  await log.append(delta('a', 2));
  await log.append(delta('a', 3));
  await log.close();
  const tail = verifyLog(wal, { verifiers: [signer] });
  assert.equal(tail.unsigned, 2);
  assert.deepEqual(tail.unsignedRange, { from: tail.records - 2, to: tail.records - 1 }, 'which records the chain alone attests');
  ({ log } = await AuditLog.open(wal, { signer }));
  await log.close();
  const r = verifyLog(wal, { verifiers: [signer] });
  assert.deepEqual(r.problems, []);
  assert.equal(r.unsigned, 0);
  // And a clean reopen with nothing unsigned adds nothing.
  const size = r.records;
  ({ log } = await AuditLog.open(wal, { signer }));
  await log.close();
  assert.equal(verifyLog(wal, { verifiers: [signer] }).records, size);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { openCheckpoint, signCheckpoint } from '../src/checkpoint.js';
import { Ed25519Signer, keyId, openNote, signNote } from '../src/note.js';

const signer = (name: string) => new Ed25519Signer(name, generateKeyPairSync('ed25519').privateKey);

test('a signed note opens with its pinned key and has the C2SP layout', async () => {
  const s = signer('faramesh.local/stack');
  const note = await signNote('hello\nworld\n', [s]);
  assert.match(note, /^hello\nworld\n\n\u2014 faramesh\.local\/stack [A-Za-z0-9+/]+=*\n$/u);
  const blob = Buffer.from(note.split(' ').pop()!.trim(), 'base64');
  assert.deepEqual(blob.subarray(0, 4), Buffer.from(keyId(s.name, s.publicKey)));
  assert.equal(blob.length, 68);
  assert.deepEqual(openNote(note, [s]), { ok: true, text: 'hello\nworld\n', verifiedBy: ['faramesh.local/stack'] });
});

test('a note is refused when tampered, unsigned by a pinned key, or malformed', async () => {
  const s = signer('log');
  const note = await signNote('size 5\n', [s]);
  assert.equal(openNote(note.replace('size 5', 'size 6'), [s]).ok, false, 'text changed');
  assert.equal(openNote(note, [signer('log')]).ok, false, 'another key with the same name');
  assert.equal(openNote(note, [signer('other')]).ok, false, 'unknown signer only');
  assert.equal(openNote('no signature\n', [s]).ok, false);
  assert.equal(openNote(note.replace('\u2014', '--'), [s]).ok, false);
  const forged = note.replace(/ (\S+)\n$/, (_, b64: string) => {
    const b = Buffer.from(b64, 'base64');
    b[10]! ^= 1;
    return ` ${b.toString('base64')}\n`;
  });
  assert.deepEqual(openNote(forged, [s]), { ok: false, reason: "the signature by 'log' does not verify" });
});

test('a checkpoint round-trips and verifies only under the pinned key', async () => {
  const s = signer('faramesh.local/stack');
  const checkpoint = { origin: 'faramesh.local/stack', size: 42, root: Buffer.alloc(32, 7), time: '2026-11-22T05:00:00Z' };
  const note = await signCheckpoint(checkpoint, s);
  assert.ok(note.startsWith(`faramesh.local/stack\n42\n${Buffer.alloc(32, 7).toString('base64')}\ntime 2026-11-22T05:00:00Z\n\n`));
  const opened = openCheckpoint(note, [s]);
  assert.ok(opened.ok);
  assert.equal(opened.ok && opened.checkpoint.size, 42);
  assert.equal(openCheckpoint(note.replace('\n42\n', '\n43\n'), [s]).ok, false, 'a rewritten size');
  assert.equal(openCheckpoint(note, [signer('faramesh.local/stack')]).ok, false, 'a key that is not pinned');
});

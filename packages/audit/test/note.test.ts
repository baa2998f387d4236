import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openCheckpoint, signCheckpoint } from '../src/checkpoint.js';
import { createPrivateKey, sign as cryptoSign, createHash } from 'node:crypto';
import { encodeVerifierKey, parseVerifierKey } from '../src/keys.js';
import { Ed25519Signer, keyId, newEcKey, newEd25519Key, openNote, signNote, type Signer } from '../src/note.js';

const signer = (name: string) => new Ed25519Signer(name, newEd25519Key());

test('a signed note opens with its pinned key and has the C2SP layout', async () => {
  const s = signer('faramesh.local/stack');
  const note = await signNote('hello\nworld\n', [s]);
  assert.match(note, /^hello\nworld\n\n\u2014 faramesh\.local\/stack [A-Za-z0-9+/]+=*\n$/u);
  const blob = Buffer.from(note.split(' ').pop()!.trim(), 'base64');
  assert.deepEqual(blob.subarray(0, 4), Buffer.from(keyId(s)));
  assert.equal(blob.length, 68);
  assert.deepEqual(openNote(note, [s]), { ok: true, text: 'hello\nworld\n', verifiedBy: ['faramesh.local/stack'], signers: [s] });
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

/** An ECDSA signer as a KMS is one: it gets a digest and returns an ASN.1 DER signature. */
function ecdsaSigner(name: string, curve: 'P-256' | 'P-384'): Signer {
  const { privateKey, publicKey } = newEcKey(curve);
  const hash = curve === 'P-256' ? 'sha256' : 'sha384';
  return {
    name,
    type: 'ecdsa',
    publicKey: publicKey.export({ format: 'der', type: 'spki' }),
    sign: async (m) =>
      cryptoSign(hash, m, { key: createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })), dsaEncoding: 'der' }),
  };
}

test('ECDSA notes (type 0x02, as the cloud KMSs sign): P-256 and P-384, key id from the SPKI, vkeys round-trip', async () => {
  for (const curve of ['P-256', 'P-384'] as const) {
    const s = ecdsaSigner('faramesh/kms', curve);
    const note = await signNote('tree 9\n', [s]);
    const blob = Buffer.from(note.split(' ').pop()!.trim(), 'base64');
    assert.deepEqual(blob.subarray(0, 4), createHash('sha256').update(s.publicKey).digest().subarray(0, 4));
    assert.equal(blob[4], 0x30, 'an ASN.1 DER SEQUENCE');
    assert.deepEqual(openNote(note, [s]), { ok: true, text: 'tree 9\n', verifiedBy: ['faramesh/kms'], signers: [s] });
    assert.equal(openNote(note.replace('tree 9', 'tree 8'), [s]).ok, false);
    assert.equal(openNote(note, [ecdsaSigner('faramesh/kms', curve)]).ok, false, 'another key under the same name');
    const vkey = encodeVerifierKey(s);
    assert.match(vkey, /^faramesh\/kms\+[0-9a-f]{8}\+AjB/, 'type 0x02, then the DER SEQUENCE');
    const pinned = parseVerifierKey(vkey);
    assert.equal(pinned.type, 'ecdsa');
    assert.equal(openNote(note, [pinned]).ok, true);
  }
  // A key on another curve is no checkpoint key.
  const k = newEcKey('secp256k1').publicKey.export({ format: 'der', type: 'spki' });
  const v = { name: 'x', type: 'ecdsa' as const, publicKey: k };
  assert.throws(() => parseVerifierKey(encodeVerifierKey(v)), /P-256 or P-384/);
  assert.throws(() => parseVerifierKey('x+00000000+' + Buffer.from([9, 1, 2]).toString('base64')), /neither ed25519/);
});

/** Key Vault's raw r‖s ECDSA signatures become the DER the log keeps: every one must still verify. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import { newEcKey } from '@faramesh/audit';
import { derSignature } from '../src/signing/azure-key-vault.js';

test('raw r‖s → DER verifies for P-256 and P-384, high bits and leading zeros included', () => {
  for (const [curve, hash] of [
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
  ] as const) {
    const { privateKey, publicKey } = newEcKey(curve);
    let highBit = 0;
    for (let i = 0; i < 300; i++) {
      const message = Buffer.from(`checkpoint ${i}`);
      const raw = sign(hash, message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      if (raw[0]! & 0x80) highBit++;
      assert.ok(verify(hash, message, { key: publicKey, dsaEncoding: 'der' }, derSignature(raw)), `${curve} #${i}`);
    }
    assert.ok(highBit > 0, 'some r had its high bit set (a 0x00 pad was needed)');
  }
  const zeros = Buffer.concat([Buffer.alloc(31), Buffer.from([1]), Buffer.alloc(31), Buffer.from([0x80])]);
  assert.deepEqual(derSignature(zeros), Buffer.from([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80]));
});

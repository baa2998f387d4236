/**
 * A signing key as a fake KMS holds it. KMSs sign a digest they are given (no hashing of their
 * own), which node's crypto cannot do for ECDSA, so the fakes ask `openssl pkeyutl` to, as a real
 * HSM would: the digest in, an ASN.1 DER signature out.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KmsKeyType = 'ed25519' | 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048';

export class KmsKey {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  private readonly pemFile: string;
  /** Sign everything with another key than the one published (a misconfigured KMS). */
  impostor?: KmsKey;

  constructor(readonly type: KmsKeyType) {
    const pair =
      type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : type === 'rsa-2048'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: type === 'ecdsa-p256' ? 'P-256' : 'P-384' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.pemFile = join(mkdtempSync(join(tmpdir(), 'faramesh-kms-')), 'key.pem');
    writeFileSync(this.pemFile, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  }

  get publicPem(): string {
    return this.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }

  get spki(): Buffer {
    return this.publicKey.export({ format: 'der', type: 'spki' });
  }

  /** The raw 32 bytes of an ed25519 key. */
  get raw(): Buffer {
    return Buffer.from(this.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  }

  signDigest(digest: Buffer): Buffer {
    if (this.impostor) return this.impostor.signDigest(digest);
    return execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', this.pemFile], { input: digest });
  }

  signMessage(message: Buffer): Buffer {
    if (this.impostor) return this.impostor.signMessage(message);
    return sign(null, message, this.privateKey);
  }
}

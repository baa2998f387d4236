/**
 * A signing key as a fake KMS holds it. KMSs sign a digest they are given (no hashing of their
 * own), which node's crypto cannot do for ECDSA, so the fakes ask `openssl pkeyutl` to, as a real
 * HSM would: the digest in, an ASN.1 DER signature out.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { ed25519PublicKey } from '@faramesh/audit';
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
    // Made by openssl, not generateKeyPairSync: on Node 20, exporting a freshly generated key while V8
    // collects its generator job can deadlock (it hung a CI run).
    this.pemFile = join(mkdtempSync(join(tmpdir(), 'faramesh-kms-')), 'key.pem');
    const algorithm =
      type === 'ed25519'
        ? ['-algorithm', 'ed25519']
        : type === 'rsa-2048'
          ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
          : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${type === 'ecdsa-p256' ? 'P-256' : 'P-384'}`];
    execFileSync('openssl', ['genpkey', ...algorithm, '-out', this.pemFile]);
    chmodSync(this.pemFile, 0o600);
    this.privateKey = createPrivateKey(readFileSync(this.pemFile));
    this.publicKey = createPublicKey(this.privateKey);
  }

  get publicPem(): string {
    return this.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }

  get spki(): Buffer {
    return this.publicKey.export({ format: 'der', type: 'spki' });
  }

  /** The raw 32 bytes of an ed25519 key. */
  get raw(): Buffer {
    return ed25519PublicKey(this.publicKey);
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

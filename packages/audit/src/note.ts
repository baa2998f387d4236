/**
 * C2SP signed notes: a text, a blank line, and signature lines
 * `— <key name> <base64(key id ‖ signature)>`; the signature covers the text including its final
 * newline. Two signature types: Ed25519 (0x01; the key id is the first 4 bytes of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)) for the stack's own key and Vault Transit, and ECDSA
 * (0x02; the key id is the first 4 bytes of SHA-256 of the SPKI DER public key; an ASN.1 DER
 * signature over SHA-256 for P-256, SHA-384 for P-384) for the cloud KMSs, which sign only ECDSA.
 * Verification trusts only keys the verifier pins, never one found in the note.
 */
import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';

const DASH = '\u2014 ';

export type SignatureType = 'ed25519' | 'ecdsa';
/** The C2SP signature type identifier bytes. */
export const SIGNATURE_TYPE_BYTE: Readonly<Record<SignatureType, number>> = { ed25519: 0x01, ecdsa: 0x02 };

export interface Verifier {
  /** The key name, e.g. the log's origin. No spaces, no '+'. */
  name: string;
  type: SignatureType;
  /** Ed25519: the raw 32-byte key. ECDSA: the SPKI DER encoding (P-256 or P-384). */
  publicKey: Uint8Array;
}

/** Signs checkpoints: the stack key in-process, or a KMS (AWS, GCP, Vault Transit) holding the private key. */
export interface Signer extends Verifier {
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export function keyId(v: Verifier): Uint8Array {
  const h = createHash('sha256');
  if (v.type === 'ed25519') h.update(v.name).update(Buffer.from([0x0a, SIGNATURE_TYPE_BYTE.ed25519]));
  return h.update(v.publicKey).digest().subarray(0, 4);
}

export function validKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/** The digest an ECDSA key signs with: SHA-256 on P-256, SHA-384 on P-384; anything else is refused. */
export function ecdsaHash(key: KeyObject): 'sha256' | 'sha384' {
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (curve === 'prime256v1') return 'sha256';
  if (curve === 'secp384r1') return 'sha384';
  throw new Error(`an ECDSA checkpoint key must be on P-256 or P-384, not ${curve ?? key.asymmetricKeyType}`);
}

/** The node KeyObject for a pinned key; throws on a malformed key. */
export function verifierKey(v: Verifier): KeyObject {
  if (v.type === 'ed25519') {
    if (v.publicKey.length !== 32) throw new Error('an ed25519 key is 32 bytes');
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(v.publicKey).toString('base64url') }, format: 'jwk' });
  }
  const key = createPublicKey({ key: Buffer.from(v.publicKey), format: 'der', type: 'spki' });
  ecdsaHash(key);
  return key;
}

/** Check one signature by a pinned key over `message`. */
export function verifySignature(v: Verifier, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = verifierKey(v);
    return v.type === 'ed25519'
      ? cryptoVerify(null, message, key, signature)
      : cryptoVerify(ecdsaHash(key), message, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** An in-process ed25519 signer over a node KeyObject (the stack key under .faramesh/keys/). */
export class Ed25519Signer implements Signer {
  readonly type = 'ed25519';
  readonly publicKey: Uint8Array;

  constructor(
    readonly name: string,
    private readonly privateKey: KeyObject,
  ) {
    if (!validKeyName(name)) throw new Error(`invalid key name '${name}'`);
    this.publicKey = ed25519PublicKey(privateKey);
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return this.signSync(message);
  }

  /** The same signature, for callers that must not yield (the daemon's state files). */
  signSync(message: Uint8Array): Buffer {
    return cryptoSign(null, message, this.privateKey);
  }
}

/** Sign `text` (non-empty, ending in exactly one newline, no blank lines). */
export async function signNote(text: string, signers: readonly Signer[]): Promise<string> {
  if (!text.endsWith('\n') || text.includes('\n\n') || /[\u0000-\u0009\u000b-\u001f]/.test(text))
    throw new Error('a note text ends with one newline and has no blank lines or control characters');
  const lines: string[] = [];
  for (const s of signers) {
    const sig = await s.sign(Buffer.from(text, 'utf8'));
    lines.push(`${DASH}${s.name} ${Buffer.concat([keyId(s), sig]).toString('base64')}\n`);
  }
  return `${text}\n${lines.join('')}`;
}

/** `verifiedBy`: the signers' names; `signers`: the very keys whose signatures verified (a rotated key keeps its name). */
export type NoteCheck = { ok: true; text: string; verifiedBy: string[]; signers: Verifier[] } | { ok: false; reason: string };

/**
 * Open a signed note with pinned verifiers: at least one must have signed it, and every signature
 * line from a pinned (name, key id) must verify. Lines from unknown keys are ignored.
 */
export function openNote(note: string, verifiers: readonly Verifier[]): NoteCheck {
  if (note.length > 1 << 20) return { ok: false, reason: 'the note is larger than 1 MiB' };
  const split = note.lastIndexOf('\n\n');
  if (split === -1) return { ok: false, reason: 'no signature block' };
  const text = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2).split('\n');
  if (sigLines.pop() !== '') return { ok: false, reason: 'the signature block does not end with a newline' };
  if (sigLines.length === 0 || sigLines.length > 100) return { ok: false, reason: 'a note has 1 to 100 signatures' };
  const verifiedBy: string[] = [];
  const signers: Verifier[] = [];
  for (const line of sigLines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    if (!m) return { ok: false, reason: `malformed signature line '${line.slice(0, 60)}'` };
    const blob = Buffer.from(m[2]!, 'base64');
    if (blob.length < 5) return { ok: false, reason: 'signature too short' };
    const id = blob.subarray(0, 4);
    for (const v of verifiers) {
      if (v.name !== m[1] || Buffer.compare(keyId(v), id) !== 0) continue;
      if (!verifySignature(v, Buffer.from(text, 'utf8'), blob.subarray(4)))
        return { ok: false, reason: `the signature by '${v.name}' does not verify` };
      verifiedBy.push(v.name);
      if (!signers.includes(v)) signers.push(v);
    }
  }
  if (verifiedBy.length === 0) return { ok: false, reason: 'no signature by a pinned key' };
  return { ok: true, text, verifiedBy, signers };
}

/** An Ed25519 SubjectPublicKeyInfo is this prefix and the 32 key bytes; a PKCS#8 private key, this prefix and the 32-byte seed. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The raw 32-byte public key of an Ed25519 key (private or public). */
export function ed25519PublicKey(key: KeyObject): Buffer {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });
  if (spki.length !== 44 || !spki.subarray(0, 12).equals(ED25519_SPKI_PREFIX)) throw new Error('not an Ed25519 key');
  return spki.subarray(12);
}

/**
 * A new Ed25519 private key, from 32 random bytes. Not generateKeyPairSync: on Node 20 exporting a
 * key while V8 collects the job that generated it can deadlock (the job's destructor waits for the
 * key's mutex, which the export holds), and a key made from bytes has no such job.
 */
export function newEd25519Key(): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, randomBytes(32)]), format: 'der', type: 'pkcs8' });
}

const EC_CURVES = { 'P-256': ['prime256v1', 32], 'P-384': ['secp384r1', 48], secp256k1: ['secp256k1', 32] } as const;

/** A new EC key pair, from ECDH's key material (not generateKeyPairSync, for the reason above). */
export function newEcKey(curve: keyof typeof EC_CURVES): { privateKey: KeyObject; publicKey: KeyObject } {
  const [name, size] = EC_CURVES[curve];
  const ecdh = createECDH(name);
  const point = ecdh.generateKeys();
  const raw = ecdh.getPrivateKey();
  const d = Buffer.alloc(size);
  raw.copy(d, size - raw.length);
  const b64 = (b: Buffer) => b.toString('base64url');
  const jwk = { kty: 'EC', crv: curve, d: b64(d), x: b64(point.subarray(1, 1 + size)), y: b64(point.subarray(1 + size)) };
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

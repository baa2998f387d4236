/**
 * C2SP signed notes: a text, a blank line, and signature lines
 * `— <key name> <base64(key id ‖ signature)>`. The key id is the first 4 bytes of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ ed25519 public key); the signature covers the text including its
 * final newline. Verification trusts only keys the verifier pins, never one found in the note.
 */
import { createHash, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

const DASH = '\u2014 ';
const ED25519 = 0x01;

/** Signs checkpoints; a KMS (AWS, GCP, Vault Transit) implements the same interface. */
export interface Signer {
  /** The key name, e.g. the log's origin. No spaces, no '+'. */
  readonly name: string;
  /** The raw 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface Verifier {
  name: string;
  publicKey: Uint8Array;
}

export function keyId(name: string, publicKey: Uint8Array): Uint8Array {
  return createHash('sha256')
    .update(name)
    .update(Buffer.from([0x0a, ED25519]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

export function validKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/** An in-process ed25519 signer over a node KeyObject (the stack key under .faramesh/keys/). */
export class Ed25519Signer implements Signer {
  readonly publicKey: Uint8Array;

  constructor(
    readonly name: string,
    private readonly privateKey: KeyObject,
  ) {
    if (!validKeyName(name)) throw new Error(`invalid key name '${name}'`);
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    this.publicKey = Buffer.from(jwk.x!, 'base64url');
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
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
    lines.push(`${DASH}${s.name} ${Buffer.concat([keyId(s.name, s.publicKey), sig]).toString('base64')}\n`);
  }
  return `${text}\n${lines.join('')}`;
}

export type NoteCheck = { ok: true; text: string; verifiedBy: string[] } | { ok: false; reason: string };

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
  for (const line of sigLines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    if (!m) return { ok: false, reason: `malformed signature line '${line.slice(0, 60)}'` };
    const blob = Buffer.from(m[2]!, 'base64');
    if (blob.length < 5) return { ok: false, reason: 'signature too short' };
    const id = blob.subarray(0, 4);
    for (const v of verifiers) {
      if (v.name !== m[1] || Buffer.compare(keyId(v.name, v.publicKey), id) !== 0) continue;
      const key = createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(v.publicKey).toString('base64url') },
        format: 'jwk',
      });
      if (!cryptoVerify(null, Buffer.from(text, 'utf8'), key, blob.subarray(4)))
        return { ok: false, reason: `the signature by '${v.name}' does not verify` };
      verifiedBy.push(v.name);
    }
  }
  if (verifiedBy.length === 0) return { ok: false, reason: 'no signature by a pinned key' };
  return { ok: true, text, verifiedBy };
}

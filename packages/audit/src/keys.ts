/**
 * The stack's checkpoint key and the pinned verifier keys.
 *
 * - The private key lives in `.faramesh/keys/audit.key` (PKCS#8 PEM, mode 0600, directory 0700),
 *   created on first use.
 * - `.faramesh/keys/audit.pub` holds verifier keys in the C2SP vkey form
 *   `<name>+<key id hex>+<base64(type ‖ public key)>` (type 0x01 ed25519, 0x02 ECDSA), one per line: rotation appends the new key, so
 *   checkpoints signed before a rotation still verify. Verification reads keys from here or from
 *   `--key`, never from the log.
 */
import { createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurable } from './log/files.js';
import {
  Ed25519Signer,
  keyId,
  newEd25519Key,
  SIGNATURE_TYPE_BYTE,
  validKeyName,
  verifierKey,
  type SignatureType,
  type Verifier,
} from './note.js';

export function encodeVerifierKey(v: Verifier): string {
  const id = Buffer.from(keyId(v)).toString('hex');
  return `${v.name}+${id}+${Buffer.concat([Buffer.from([SIGNATURE_TYPE_BYTE[v.type]]), v.publicKey]).toString('base64')}`;
}

export function parseVerifierKey(text: string): Verifier {
  const parts = text.trim().split('+');
  // The base64 part may itself contain '+': the name and id are the first two fields.
  const [name, id] = parts;
  const key = Buffer.from(parts.slice(2).join('+'), 'base64');
  if (!name || !validKeyName(name) || !id || !/^[0-9a-f]{8}$/.test(id))
    throw new Error(`not a verifier key: expected <name>+<8 hex>+<base64>, got '${text.trim().slice(0, 80)}'`);
  const type = (Object.keys(SIGNATURE_TYPE_BYTE) as SignatureType[]).find((t) => SIGNATURE_TYPE_BYTE[t] === key[0]);
  if (!type) throw new Error(`verifier key '${name}' is neither ed25519 (0x01) nor ECDSA (0x02)`);
  const v: Verifier = { name, type, publicKey: key.subarray(1) };
  try {
    verifierKey(v);
  } catch (e) {
    throw new Error(`verifier key '${name}': ${(e as Error).message}`);
  }
  if (Buffer.from(keyId(v)).toString('hex') !== id) throw new Error(`verifier key '${name}' has a wrong key id`);
  return v;
}

/** Read pinned verifier keys: one vkey per line; blank lines and `#` comments are skipped. */
export function readVerifierKeys(file: string): Verifier[] {
  const keys = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map(parseVerifierKey);
  if (keys.length === 0) throw new Error(`${file} holds no verifier key`);
  return keys;
}

export const keysDir = (stackDir: string) => join(stackDir, '.faramesh', 'keys');
export const publicKeyFile = (stackDir: string) => join(keysDir(stackDir), 'audit.pub');
const privateKeyFile = (stackDir: string) => join(keysDir(stackDir), 'audit.key');

/** A key name from the stack: the checkpoint origin, so it names the log. */
export function originFor(stackName: string): string {
  const safe = stackName.replace(/[^A-Za-z0-9._/-]/g, '-').replace(/^-+|-+$/g, '') || 'stack';
  return `faramesh/${safe}`;
}

/**
 * Load the stack's signer, creating the key pair on first use. An existing key keeps the name it was
 * pinned under, whatever `origin` the stack's directory name gives now: the name is the log's origin
 * and part of the key id, so a stack moved or renamed would otherwise announce a new key and sign
 * checkpoints of another origin, which `audit verify` (rightly) refuses for the same log.
 */
export function loadStackSigner(stackDir: string, origin: string): Ed25519Signer {
  const file = privateKeyFile(stackDir);
  if (!existsSync(file)) return rotateStackKey(stackDir, origin);
  const key = createPrivateKey(readFileSync(file));
  const signer = new Ed25519Signer(pinnedNameOf(stackDir, new Ed25519Signer(origin, key)) ?? origin, key);
  // A crash between writing the two files must not leave the key unpinned.
  pinKey(stackDir, encodeVerifierKey(signer));
  return signer;
}

/** The name `key` was first pinned under in the stack's `audit.pub`, if it is there. */
function pinnedNameOf(stackDir: string, key: Verifier): string | undefined {
  const pub = publicKeyFile(stackDir);
  if (!existsSync(pub)) return undefined;
  for (const line of readFileSync(pub, 'utf8').split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    let pinned: Verifier;
    try {
      pinned = parseVerifierKey(line);
    } catch {
      continue; // not ours to judge here: verification reads the file and says what is wrong
    }
    if (pinned.type === key.type && Buffer.compare(pinned.publicKey, key.publicKey) === 0) return pinned.name;
  }
  return undefined;
}

/**
 * Make a new key pair: the public key is appended to `audit.pub` first (older checkpoints keep
 * verifying), then the private key replaces the old one, each durably. The log records the rotation
 * on its next open.
 */
export function rotateStackKey(stackDir: string, origin: string): Ed25519Signer {
  const dir = keysDir(stackDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const privateKey = newEd25519Key();
  const signer = new Ed25519Signer(origin, privateKey);
  pinKey(stackDir, encodeVerifierKey(signer));
  writeDurable(dir, 'audit.key', privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return signer;
}

/** Add a verifier key to `audit.pub` unless it is there already (a KMS key is pinned on first use, like the stack key). */
export function pinKey(stackDir: string, vkey: string): void {
  const pub = publicKeyFile(stackDir);
  const before = existsSync(pub) ? readFileSync(pub, 'utf8') : '';
  if (before.split('\n').some((l) => l.trim() === vkey)) return;
  writeDurable(keysDir(stackDir), 'audit.pub', `${before}${before && !before.endsWith('\n') ? '\n' : ''}${vkey}\n`, 0o644);
}

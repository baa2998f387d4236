/** A throwaway registry catalog on disk, signed with freshly generated ed25519 keys, for import tests. */
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY = 'github.com/faramesh/faramesh-registry';

/** PKCS#8 DER of an Ed25519 key, before its 32-byte seed. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface TestKey {
  id: string;
  privateKey: KeyObject;
  /** Raw 32-byte public key, base64. */
  publicB64: string;
}

export function makeKey(id: string): TestKey {
  // From random bytes, not generateKeyPairSync: on Node 20, exporting a freshly generated key while V8
  // collects its generator job can deadlock (this hung a CI run).
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, randomBytes(32)]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { id, privateKey, publicB64: spki.subarray(12).toString('base64') };
}

export function signatureJson(key: TestKey, bytes: Uint8Array, overrides: Record<string, unknown> = {}): string {
  const value = sign(null, bytes, key.privateKey).toString('base64');
  return JSON.stringify({ key_id: key.id, algorithm: 'ed25519', value_b64: value, public_key_b64: key.publicB64, ...overrides });
}

export interface ArtifactOptions {
  /** Sign with this key (default: the registry's key); `false` writes no .sig. */
  signer?: TestKey | false;
  /** Write this text as the .sig instead of a real signature. */
  sigText?: string;
  fileName?: string;
}

export class TestRegistry {
  /** The temp directory holding both the registry root and a stack directory. */
  readonly base: string;
  readonly root: string;
  readonly stackDir: string;
  readonly key: TestKey;

  constructor() {
    this.base = mkdtempSync(join(tmpdir(), 'faramesh-imports-'));
    this.root = join(this.base, 'registry');
    this.stackDir = join(this.base, 'stack');
    mkdirSync(join(this.root, 'catalog', 'artifacts'), { recursive: true });
    mkdirSync(this.stackDir, { recursive: true });
    this.key = makeKey('faramesh-registry-2026');
    this.writeKeys([this.key]);
  }

  writeKeys(keys: TestKey[]): void {
    const dir = join(this.root, 'catalog', 'trust');
    mkdirSync(dir, { recursive: true });
    const list = keys.map((k) => ({
      id: k.id,
      algorithm: 'ed25519',
      public_key_b64: k.publicB64,
      owner: 'test',
      created_at: '2026-01-01T00:00:00Z',
    }));
    writeFileSync(join(dir, 'keys.json'), JSON.stringify({ keys: list }));
  }

  /** `path` is below catalog/artifacts, e.g. `policies/faramesh/stripe/1.0.0`. Returns the artifact file's path. */
  add(path: string, content: string, options: ArtifactOptions = {}): string {
    const kind = path.split('/')[0];
    const fileName = options.fileName ?? (kind === 'frameworks' ? 'profile.fpl' : kind === 'providers' ? 'manifest.json' : 'policy.fpl');
    const dir = join(this.root, 'catalog', 'artifacts', ...path.split('/'));
    mkdirSync(dir, { recursive: true });
    const bytes = Buffer.from(content);
    const file = join(dir, fileName);
    writeFileSync(file, bytes);
    const signer = options.signer === undefined ? this.key : options.signer;
    if (options.sigText !== undefined) writeFileSync(`${file}.sig`, options.sigText);
    else if (signer) writeFileSync(`${file}.sig`, signatureJson(signer, bytes));
    return file;
  }

  /** A trust block pinning `key` (default: the registry's) for REGISTRY. */
  trust(key: TestKey = this.key, subject = REGISTRY): string {
    return `trust {\n  key "${subject}" ed25519:${key.publicB64}\n}\n`;
  }

  cleanup(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

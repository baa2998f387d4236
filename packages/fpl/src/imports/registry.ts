import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readArtifact, type Artifact } from './artifact.js';
import { problem, type ImportProblem } from './problem.js';
import { refSegments, type ImportRef } from './ref.js';
import { decodeBase64, ED25519_PUBLIC_KEY_BYTES } from './signature.js';

/** A key listed in the catalog's `trust/keys.json`. Listing a key does not make it trusted. */
export interface RegistryKey {
  id: string;
  algorithm: string;
  publicKey?: Uint8Array;
}

/** A registry's key list as read, or why it could not be. */
export type RegistryKeys = { keys?: Map<string, RegistryKey>; error?: ImportProblem };

/** A local registry mirror (`FARAMESH_REGISTRY_ROOT`): a clone of the catalog repository. */
export class LocalRegistry {
  private keysCache?: RegistryKeys;

  private constructor(
    readonly root: string,
    /** `<root>/catalog`, or the root itself when it points straight at a catalog directory. */
    readonly catalogDir: string,
  ) {}

  static open(root: string): { registry?: LocalRegistry; error?: ImportProblem } {
    for (const catalogDir of [join(root, 'catalog'), root]) {
      if (isDirectory(join(catalogDir, 'artifacts'))) return { registry: new LocalRegistry(root, catalogDir) };
    }
    const why = existsSync(root) ? `${join(root, 'catalog', 'artifacts')} does not exist` : `${root} does not exist`;
    return {
      error: problem(
        'import-no-registry',
        `FARAMESH_REGISTRY_ROOT is not a registry catalog: ${why}`,
        'set FARAMESH_REGISTRY_ROOT to a local clone of the faramesh-registry repository',
      ),
    };
  }

  artifactDir(ref: ImportRef): string {
    return join(this.catalogDir, 'artifacts', ...refSegments(ref));
  }

  read(ref: ImportRef): { artifact?: Artifact; error?: ImportProblem } {
    return readArtifact(this.artifactDir(ref), ref.kind, 'registry');
  }

  /** `catalog/trust/keys.json`, read once per run. */
  keys(): RegistryKeys {
    this.keysCache ??= this.loadKeys();
    return this.keysCache;
  }

  private loadKeys(): RegistryKeys {
    const path = join(this.catalogDir, 'trust', 'keys.json');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return noKeyList(path);
      return { error: problem('import-invalid-keys', `${path} is invalid: ${(e as Error).message}`) };
    }
    return parseRegistryKeys(text, path);
  }
}

/** The error when a registry publishes no key list: the signing key cannot be cross-checked. */
export function noKeyList(where: string): { error: ImportProblem } {
  return {
    error: problem('import-unknown-key', `the registry has no key list (${where} not found), so the signing key cannot be checked`),
  };
}

/**
 * A registry's key list: `catalog/trust/keys.json`, or the HTTP registry's `/v1/trust/keys` (which
 * names the id `key_id`). `where` names the source in messages.
 */
export function parseRegistryKeys(text: string, where: string): RegistryKeys {
  const invalid = (why: string) => ({
    error: problem(
      'import-invalid-keys',
      `${where} is invalid: ${why}`,
      'expected {"keys": [{"id": "…", "algorithm": "ed25519", "public_key_b64": "…"}]}',
    ),
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return invalid('not valid JSON');
  }
  const list = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) return invalid("missing 'keys' array");
  const keys = new Map<string, RegistryKey>();
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return invalid('a key entry is not an object');
    const e = entry as Record<string, unknown>;
    const id = typeof e.id === 'string' ? e.id : e.key_id;
    if (typeof id !== 'string' || id === '') return invalid("a key entry has no 'id'");
    const key: RegistryKey = { id, algorithm: typeof e.algorithm === 'string' ? e.algorithm.toLowerCase() : 'ed25519' };
    if (typeof e.public_key_b64 === 'string') {
      const publicKey = decodeBase64(e.public_key_b64);
      if (!publicKey || publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return invalid(`key '${id}' has a malformed 'public_key_b64'`);
      key.publicKey = publicKey;
    }
    keys.set(id, key);
  }
  return { keys };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

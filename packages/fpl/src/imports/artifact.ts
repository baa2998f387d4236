import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { problem, type ImportProblem } from './problem.js';
import type { ImportKind } from './ref.js';

/** The files an artifact directory may hold, in order of preference; each may have a `<file>.sig` beside it. */
export const ARTIFACT_FILES: Readonly<Record<ImportKind, readonly string[]>> = {
  policies: ['policy.fpl'],
  frameworks: ['profile.fpl', 'policy.fpl'],
  providers: ['manifest.json'],
};

/** An artifact's SHA-256 (hex): what the compiled policy, the lock and bundles record of it. */
export function artifactDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One artifact as read from disk, not yet verified. */
export interface Artifact {
  fileName: string;
  bytes: Uint8Array;
  /** The raw `.sig` bytes, when there is a signature file. */
  sig?: Uint8Array;
  /** Where it was read from: the registry's artifact directory or the import cache entry. */
  dir: string;
  origin: 'registry' | 'cache';
}

/** Read the artifact in `dir`; `{}` when the directory has none of the expected files. */
export function readArtifact(dir: string, kind: ImportKind, origin: Artifact['origin']): { artifact?: Artifact; error?: ImportProblem } {
  for (const fileName of ARTIFACT_FILES[kind]) {
    const bytes = readIfExists(join(dir, fileName));
    if ('error' in bytes) return bytes;
    if (!bytes.data) continue;
    const sig = readIfExists(join(dir, `${fileName}.sig`));
    if ('error' in sig) return sig;
    return { artifact: { fileName, bytes: bytes.data, dir, origin, ...(sig.data ? { sig: sig.data } : {}) } };
  }
  return {};
}

function readIfExists(path: string): { data?: Uint8Array } | { error: ImportProblem } {
  try {
    return { data: new Uint8Array(readFileSync(path)) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { error: problem('import-read-failed', `cannot read ${path}: ${(e as Error).message}`) };
  }
}

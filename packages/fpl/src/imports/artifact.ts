import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
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

/** Largest artifact or signature file read from a registry clone or the cache (as fetching allows). */
export const MAX_ARTIFACT_FILE = 4 * 1024 * 1024;

function readIfExists(path: string): { data?: Uint8Array } | { error: ImportProblem } {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted in the cache must not hang the open.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    return { error: problem('import-read-failed', `cannot read ${path}: ${(e as Error).message}`) };
  }
  try {
    // Not a FIFO or a device (a symlink to /dev/zero would be read forever), nor larger than an artifact can be.
    const st = fstatSync(fd);
    if (!st.isFile()) return { error: problem('import-read-failed', `cannot read ${path}: not a regular file`) };
    if (st.size > MAX_ARTIFACT_FILE)
      return { error: problem('import-read-failed', `cannot read ${path}: larger than ${MAX_ARTIFACT_FILE} bytes`) };
    return { data: new Uint8Array(readFileSync(fd)) };
  } catch (e) {
    return { error: problem('import-read-failed', `cannot read ${path}: ${(e as Error).message}`) };
  } finally {
    closeSync(fd);
  }
}

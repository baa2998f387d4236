import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ARTIFACT_FILES, readArtifact, type Artifact } from './artifact.js';
import type { ImportProblem } from './problem.js';
import { refSegments, type ImportRef } from './ref.js';

/**
 * Verified artifacts copied under `<stack>/.faramesh/import-cache/<registry>/<kind>/[<ns>/]<name>/<version>/`,
 * the registry as one escaped segment (`github.com%2Ffaramesh%2Ffaramesh-registry`): two registries
 * publishing the same name and version never share an entry. The cache is a convenience, not a
 * trust anchor: whatever is read back is verified again against the pinned keys.
 */
export function cacheDir(stackDir: string, ref: ImportRef): string {
  return join(stackDir, '.faramesh', 'import-cache', ...cachePath(ref));
}

/** The cache's (and a bundle's) path segments for an artifact. */
export function cachePath(ref: ImportRef): string[] {
  return [encodeURIComponent(ref.registry), ...refSegments(ref)];
}

export function readCached(stackDir: string, ref: ImportRef): { artifact?: Artifact; error?: ImportProblem } {
  return readArtifact(cacheDir(stackDir, ref), ref.kind, 'cache');
}

/**
 * Make an artifact's cache directory one segment at a time, refusing a symbolic link on the way: a
 * link planted in the cache must not turn the writes and removals of caching into ones elsewhere,
 * not even the making of a directory (which a recursive mkdir would do through it).
 */
export function makeCacheDir(stackDir: string, ref: ImportRef): string {
  let at = stackDir;
  for (const segment of ['.faramesh', 'import-cache', ...cachePath(ref)]) {
    at = join(at, segment);
    try {
      mkdirSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (lstatSync(at).isSymbolicLink()) throw new Error(`${at} is a symbolic link; the import cache holds none`);
  }
  return at;
}

/** Copy a verified artifact (and its signature) into the cache. Throws on I/O errors. */
export function writeCached(stackDir: string, ref: ImportRef, artifact: Artifact): string {
  const dir = makeCacheDir(stackDir, ref);
  // Another file the kind may use (a framework's profile.fpl or policy.fpl) would be read first next time.
  for (const other of ARTIFACT_FILES[ref.kind])
    if (other !== artifact.fileName) for (const f of [other, `${other}.sig`]) rmSync(join(dir, f), { force: true });
  writeAtomically(join(dir, artifact.fileName), artifact.bytes);
  const sigPath = join(dir, `${artifact.fileName}.sig`);
  // A stale signature beside a re-cached unsigned artifact would make the next offline check fail.
  if (artifact.sig) writeAtomically(sigPath, artifact.sig);
  else rmSync(sigPath, { force: true });
  return dir;
}

/** Temp file + rename, so a concurrent or interrupted check never sees a half-written file. */
function writeAtomically(path: string, data: Uint8Array): void {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

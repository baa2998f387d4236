/**
 * `governance.fms.lock`: the SHA-256 of every import the stack resolved, nested ones included,
 * written beside the policy (and committed with it) on first resolution. From then on an import must
 * have those bytes, from whichever registry, mirror, bundle or cache it comes: the registry's
 * signature covers bytes, not names, so without the lock another artifact signed by the same key
 * (an older version) could stand in for the pinned one.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { refKey, StackError, type ResolvedImport } from '@faramesh/fpl';
import { LOCK_FILE } from './lock-file.js';

export { LOCK_FILE };
const FORMAT = 'faramesh-lock/1';
const MAX_LOCK = 4 * 1024 * 1024;

export interface LockEntry {
  sha256: string;
  key_id?: string;
}

/** The stack's lock, by import (`refKey`); undefined when there is none. Throws StackError when it is malformed. */
export function readLock(stackDir: string): Map<string, LockEntry> | undefined {
  const path = join(stackDir, LOCK_FILE);
  let text: string;
  try {
    const st = statSync(path);
    // Not a FIFO or a device, which could hang the read; and no larger than a lock can be.
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_LOCK) throw new Error(`larger than ${MAX_LOCK} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StackError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const bad = (why: string) =>
    new StackError(`${path} is malformed (${why}): repair it from version control, or delete it to record the digests again`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const lock = json as { format?: unknown; imports?: unknown } | null;
  if (lock?.format !== FORMAT) throw bad(`format is not ${FORMAT}`);
  if (typeof lock.imports !== 'object' || lock.imports === null || Array.isArray(lock.imports)) throw bad("no 'imports' object");
  const entries = new Map<string, LockEntry>();
  for (const [key, e] of Object.entries(lock.imports)) {
    const entry = e as Partial<LockEntry> | null;
    if (typeof entry?.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256)) throw bad(`${key} has no sha256`);
    entries.set(key, { sha256: entry.sha256, ...(typeof entry.key_id === 'string' ? { key_id: entry.key_id } : {}) });
  }
  return entries;
}

/** Every import resolved for a stack, nested ones included, each once. */
export function flattenImports(imports: readonly ResolvedImport[], seen = new Set<string>()): ResolvedImport[] {
  return imports.flatMap((i) => {
    if (seen.has(i.ref.raw)) return [];
    seen.add(i.ref.raw);
    return [i, ...flattenImports(i.imports, seen)];
  });
}

/** The lock a successful resolution implies: every import, nested ones included, in a stable order. */
export function lockOf(imports: readonly ResolvedImport[]): Map<string, LockEntry> {
  const entries = flattenImports(imports).map((i): [string, LockEntry] => [
    refKey(i.ref),
    { sha256: i.sha256, ...(i.keyId ? { key_id: i.keyId } : {}) },
  ]);
  return new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Write the lock when it differs from what was read (a stack without imports gets none). Returns why
 * it could not (a read-only checkout, an immutable lock), or undefined.
 */
export function updateLock(
  stackDir: string,
  before: Map<string, LockEntry> | undefined,
  after: Map<string, LockEntry>,
): string | undefined {
  const text = (m: Map<string, LockEntry>) => JSON.stringify({ format: FORMAT, imports: Object.fromEntries(m) }, null, 2) + '\n';
  if (before === undefined ? after.size === 0 : text(before) === text(after)) return undefined;
  const path = join(stackDir, LOCK_FILE);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text(after));
    renameSync(tmp, path);
    return undefined;
  } catch (e) {
    rmSync(tmp, { force: true });
    return (e as Error).message;
  }
}

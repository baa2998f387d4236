/** File-level helpers for the log directory: names, fsync of files and directories, the writer lock. */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export const SEGMENT = /^seg-(\d{16})\.wal$/;
export const segmentName = (firstSeq: number) => `seg-${String(firstSeq).padStart(16, '0')}.wal`;
export const manifestName = (segment: string) => segment.replace(/\.wal$/, '.manifest.json');

/** The directory's segments in order; none when the directory does not exist. */
export function listSegments(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => SEGMENT.test(f))
    .sort();
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write a small file durably: temp file, fsync, rename, fsync the directory. */
export function writeDurable(dir: string, name: string, data: string | Buffer, mode = 0o600): void {
  const tmp = join(dir, `.${name}.tmp`);
  // Created afresh (O_EXCL): whatever lies at the temp path (a leftover of a crash, or a symlink
  // planted to aim this write elsewhere) is removed, never written through.
  rmSync(tmp, { force: true });
  writeFileSync(tmp, data, { mode, flag: 'wx' });
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // A rename is atomic on one filesystem: readers see the old file or the new one.
  renameSync(tmp, join(dir, name));
  fsyncDir(dir);
}

export class LogLockedError extends Error {
  override name = 'LogLockedError';
}

/**
 * One writer per directory. The lock file holds the owner's pid; a lock left by a process that no
 * longer exists (a crash) is taken over.
 */
/** Directories this process has open, so a second open from the same process is refused too. */
const heldHere = new Set<string>();

export function acquireLock(dir: string): () => void {
  const path = join(dir, 'LOCK');
  if (heldHere.has(path)) throw new LogLockedError(`the log in ${dir} is already open in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(path);
      return () => {
        heldHere.delete(path);
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner))
        throw new LogLockedError(`the log in ${dir} is open by process ${owner}`);
      unlinkSync(path);
    }
  }
  throw new LogLockedError(`could not lock ${dir}`);
}

/**
 * Is a process with this pid alive? A zombie — exited, not yet reaped by the parent it was
 * reparented to — is not: its lock and its sockets are already free.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat is "pid (comm) S …": the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return stat.charAt(close + 2) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(0) said it exists
  }
}

/** The file's bytes from `from` on, or undefined when it is shorter than that. */
export function readFileFrom(path: string, from: number, max = Infinity): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < from) return undefined;
    const buf = Buffer.allocUnsafe(Math.min(size - from, max));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Is `name` one of the files a log directory holds (segments, manifests, the snapshot, the lock, their temp files)? */
export function isLogFile(name: string): boolean {
  const base = /^\.(.+)\.tmp$/.exec(name)?.[1] ?? name;
  return SEGMENT.test(base) || /^seg-\d{16}\.manifest\.json$/.test(base) || base === 'snapshot.json' || base === 'LOCK';
}

/**
 * Remove a log: its own files only, then the directory if nothing else is in it. Returns the names
 * of other files, which are left where they are (the directory may be shared with something else).
 */
export function removeLog(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const others: string[] = [];
  for (const name of readdirSync(dir)) {
    if (isLogFile(name)) unlinkSync(join(dir, name));
    else others.push(name);
  }
  if (others.length === 0) rmdirSync(dir);
  return others;
}

/** File-level helpers for the log directory: names, fsync of files and directories, the writer lock. */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
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
/** The first seq a segment's name says it holds. */
export const firstSeqOf = (segment: string) => Number(SEGMENT.exec(segment)![1]);
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
  const unique = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
  // The lock appears with its owner already in it (linked from a file written first): a lock read
  // between its creation and its pid being written would read as nobody's and be taken over.
  writeFileSync(unique, lockText(process.pid), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        createLock(unique, path);
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
      }
      let stale: string;
      try {
        stale = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      const owner = lockHolder(stale);
      if (owner && owner.pid !== process.pid && owner.alive) throw new LogLockedError(`the log in ${dir} is open by process ${owner.pid}`);
      // Take over the stale lock only if it is still the one judged stale: another process may have
      // taken it over meanwhile, and removing its fresh lock would let two writers in.
      const moved = `${unique}.stale`;
      try {
        renameSync(path, moved);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      if (readFileSync(moved, 'utf8') !== stale)
        try {
          linkSync(moved, path); // someone else's lock: put it back
        } catch {
          /* a third process locked meanwhile: its lock stands */
        }
      unlinkSync(moved);
    }
    throw new LogLockedError(`could not lock ${dir}`);
  } finally {
    unlinkSync(unique);
  }
}

/** Create `path` holding what `from` holds, failing with EEXIST when it exists. */
function createLock(from: string, path: string): void {
  try {
    linkSync(from, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A filesystem without hard links: create and write (a reader may briefly see it empty).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeFileSync(fd, readFileSync(from));
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * What a lock file holds: the owner's pid and, where /proc tells it, the owner's start time, so a
 * lock left by a killed process whose pid now belongs to another process is still known as stale.
 */
const lockText = (pid: number): string => {
  const start = startTimeOf(pid);
  return start === undefined ? String(pid) : `${pid} ${start}`;
};

/** The holder a lock file names, and whether that very process still runs; undefined when it names none. */
export function lockHolder(text: string): { pid: number; alive: boolean } | undefined {
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (!processAlive(pid)) return { pid, alive: false };
  // The pid is in use: by the holder, unless the process using it started at another time.
  const now = start === undefined ? undefined : startTimeOf(pid);
  return { pid, alive: now === undefined || now === start };
}

/** A process's start time (clock ticks since boot, /proc/<pid>/stat field 22), where /proc has it. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid …": fields after the last ')' start at field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
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

/** Is `name` one of the files a log directory holds (segments, manifests, the snapshot, a compacted base, the lock, their temp files)? */
export function isLogFile(name: string): boolean {
  const base = /^\.(.+)\.tmp$/.exec(name)?.[1] ?? name;
  return (
    SEGMENT.test(base) ||
    /^seg-\d{16}\.manifest\.json$/.test(base) ||
    base === 'snapshot.json' ||
    base === 'base.json' ||
    /^base-\d{16}\.leaves$/.test(base) ||
    /^LOCK(\.\d+\.[0-9a-f]+(\.stale)?)?$/.test(base)
  );
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

/** A file's SHA-256, read in chunks (an archive can be larger than a buffer). */
export function fileSha256(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(8 << 20);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

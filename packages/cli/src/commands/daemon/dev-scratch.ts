/**
 * Where `faramesh dev` keeps its throwaway log and state: a directory in memory (/dev/shm where
 * there is one) named for dev's pid. A dev that is killed outright (SIGKILL, the OOM killer) cannot
 * remove its own, so each dev that starts removes those of devs of this user that are gone.
 */
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'faramesh-dev-';

/** A new scratch directory for this dev, after sweeping away those of devs no longer running. */
export function devScratch(): string {
  const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  sweep(root);
  return mkdtempSync(join(root, `${PREFIX}${process.pid}-`));
}

function sweep(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^faramesh-dev-(\d+)-/.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || alive(pid)) continue;
    const path = join(root, name);
    try {
      // Only this user's: another user's dev is none of ours (and its pid may be hidden from us).
      const st = lstatSync(path);
      if (!st.isDirectory() || st.uid !== process.getuid?.()) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Gone meanwhile, or not ours to remove: nothing to do.
    }
  }
}

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The lock's file name, apart from the code that reads and writes it: the sandbox plan names the
 * file on every start, and must not load the policy compiler `lock.ts` needs to do so.
 */
export const LOCK_FILE = 'governance.fms.lock';

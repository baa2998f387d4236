/**
 * Where the audit commands look: the WAL directory (`--dir`, else the one the stack's running daemon
 * writes, else the stack's `runtime { wal_dir }`, else `./faramesh-wal` beside governance.fms) and the pinned checkpoint keys (`--key`, else the
 * stack's `.faramesh/keys/audit.pub`). Keys are never taken from the log itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { publicKeyFile, readVerifierKeys, type Verifier } from '@faramesh/audit';
import { stackPaths } from '@faramesh/daemon/client';
import { compileSettings } from '../../stack-compile.js';

export interface AuditPathOptions {
  dir?: string;
  stack: string;
  key?: string;
}

export const DEFAULT_WAL_DIR = './faramesh-wal';

export function walDir(o: { dir?: string; stack: string }): string {
  if (o.dir) return o.dir;
  // A running daemon names the log it writes (a `faramesh dev` log is not in the stack at all).
  const pointer = stackPaths(o.stack).walPointer;
  if (existsSync(pointer)) {
    const running = readFileSync(pointer, 'utf8').trim();
    if (running && existsSync(running)) return running;
  }
  let configured: unknown;
  try {
    configured = compileSettings(o.stack).result.ir?.runtime.wal_dir;
  } catch {
    // No governance.fms here: the default location.
  }
  const dir = typeof configured === 'string' && configured ? configured : DEFAULT_WAL_DIR;
  return isAbsolute(dir) ? dir : join(o.stack, dir);
}

/** The pinned keys and where they came from; none when no key file exists. */
export function pinnedKeys(o: { key?: string; stack: string }): { verifiers: Verifier[]; source?: string } {
  const file = o.key ?? publicKeyFile(o.stack);
  if (!o.key && !existsSync(file)) return { verifiers: [] };
  return { verifiers: readVerifierKeys(file), source: file };
}

/**
 * A time bound: RFC 3339, or a date (a `--to` date means the end of that day). Undefined when absent;
 * throws on anything else.
 */
export function timeBound(value: string | undefined, flag: '--from' | '--to'): number | undefined {
  if (value === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const t = Date.parse(dateOnly ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t) || (!dateOnly && !/^\d{4}-\d{2}-\d{2}T/.test(value)))
    throw new Error(`${flag}: '${value}' is not a date or an RFC 3339 time`);
  return dateOnly && flag === '--to' ? t + 86_400_000 - 1 : t;
}

/** What to say when the log cannot be read: damage points at `audit verify`, which names the record. */
export function readFailure(e: unknown): string {
  const error = e as Error;
  return `${error.message}${error.name === 'LogCorruptError' ? ' (run faramesh audit verify)' : ''}`;
}

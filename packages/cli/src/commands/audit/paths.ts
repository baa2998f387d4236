/**
 * Where the audit commands look: the WAL directory (`--dir`, else the one the stack's running daemon
 * writes, else the stack's `runtime { wal_dir }`, else `./faramesh-wal` beside governance.fms) and the pinned checkpoint keys (`--key`, else the
 * stack's `.faramesh/keys/audit.pub`). Keys are never taken from the log itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  eachArchivedRecord,
  eachRecord,
  publicKeyFile,
  readBase,
  readVerifierKeys,
  type StoredRecord,
  type Verifier,
} from '@faramesh/audit';
import { stackPaths } from '@faramesh/daemon/client';
import { compileSettings } from '../../stack-compile.js';

export interface AuditPathOptions {
  dir?: string;
  stack: string;
  key?: string;
  /** Read the records compaction moved to archive files too (`--include-archived`), from `archive` if given. */
  includeArchived?: boolean;
  archive?: string;
}

/** The archive directory `--archive` names (undefined: where the base says compaction wrote them). */
export function archiveDirOf(o: { archive?: string }): string | undefined {
  return o.archive === undefined ? undefined : resolve(o.archive);
}

/** Where to look for archived records under `--include-archived` (undefined without it). */
export function archivedFrom(o: AuditPathOptions): { archiveDir?: string } | undefined {
  const archiveDir = archiveDirOf(o);
  return o.includeArchived ? (archiveDir !== undefined ? { archiveDir } : {}) : undefined;
}

/**
 * Visit the log's records in order: under `--include-archived`, the archived ones first. A
 * compaction that ends while they are read would move records from the live log to an archive
 * already read: that is an error (run again), never a gap.
 */
export function eachLogRecord(o: AuditPathOptions, visit: (r: StoredRecord) => void, since?: number): void {
  const dir = walDir(o);
  if (!o.includeArchived) return eachRecord(dir, visit, since);
  const archived = () => readBase(dir)?.base.size ?? 0;
  const before = archived();
  const archiveDir = archiveDirOf(o);
  eachArchivedRecord(dir, visit, { ...(archiveDir !== undefined ? { archiveDir } : {}), ...(since !== undefined ? { since } : {}) });
  eachRecord(dir, visit, since);
  if (archived() !== before) throw new Error('the log was compacted while it was read: run the command again');
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
  // RFC 3339 with its offset (a time without one would be read as this machine's local time), and a
  // real day of the calendar (Date.parse takes 2026-02-30 as 2 March).
  const m = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/i.exec(value);
  const dateOnly = m !== null && m[4] === undefined;
  const t = m ? Date.parse(dateOnly ? `${value}T00:00:00Z` : value) : NaN;
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (Number.isNaN(t) || day?.getUTCDate() !== Number(m![3]) || day.getUTCMonth() !== Number(m![2]) - 1)
    throw new Error(`${flag}: '${value}' is not a date (YYYY-MM-DD) or an RFC 3339 time with its offset`);
  return dateOnly && flag === '--to' ? t + 86_400_000 - 1 : t;
}

/** `--from` and `--to` together: each a time bound, and the window not reversed. */
export function timeWindow(from: string | undefined, to: string | undefined): { from?: number; to?: number } {
  const f = timeBound(from, '--from');
  const t = timeBound(to, '--to');
  if (f !== undefined && t !== undefined && f > t) throw new Error(`--from ${from} is after --to ${to}: the window holds nothing`);
  return { ...(f !== undefined ? { from: f } : {}), ...(t !== undefined ? { to: t } : {}) };
}

/** What to say when the log cannot be read: damage points at `audit verify`, which names the record. */
export function readFailure(e: unknown): string {
  const error = e as Error;
  return `${error.message}${error.name === 'LogCorruptError' ? ' (run faramesh audit verify)' : ''}`;
}

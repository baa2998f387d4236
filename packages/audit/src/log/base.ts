/**
 * The base of a compacted log: what the records moved to archive files leave behind in the log
 * directory, so the live log goes on from where they ended and `audit verify` still checks it.
 *
 * - the sequencer's state at the cut (size, Merkle edge, per-chain tips, last checkpoint, key);
 * - what verifying later records needs: the policy versions applied, the approvals granted (and
 *   whether each was spent);
 * - every compacted segment's manifest, and the archive files that now hold those segments;
 * - the leaves file: each compacted record's leaf hash, so the tree and its proofs are rebuilt
 *   without the bodies, and the edge and every manifest root are checked against it;
 * - `carry`: the daemon's state snapshot, opaque here (the engine state can no longer be replayed
 *   from the first record).
 *
 * The base's SHA-256 is appended to the log (a `log_compacted` record) before the base is written, so
 * the checkpoints that follow sign it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MerkleFrontier } from '../merkle.js';
import { LogCorruptError } from './errors.js';
import { firstSeqOf, listSegments, SEGMENT } from './files.js';
import { parseJsonObject, sha256hex, type SegmentManifest } from './manifest.js';
import { isTimeBound } from './time-bound.js';

export const BASE_FILE = 'base.json';
export const BASE_FORMAT = 'faramesh-wal-base/1';
export const ARCHIVE_FORMAT = 'faramesh-wal-archive/1';
export const leavesName = (size: number) => `base-${String(size).padStart(16, '0')}.leaves`;
/** A leaves file's name. */
export const LEAVES = /^base-\d{16}\.leaves$/;
export const archiveName = (first: number, end: number) =>
  `wal-${String(first).padStart(16, '0')}-${String(end).padStart(16, '0')}.archive`;

/** One archive file: the sealed segments of one compaction, back to back after a header line. */
export interface ArchiveRef {
  file: string;
  first_seq: number;
  count: number;
  sha256: string;
  bytes: number;
  /** The directory it was written to (each compaction may name its own). */
  dir: string;
}

export interface LogBase {
  format: typeof BASE_FORMAT;
  /** Records compacted: seq 0 … size-1 are in the archives. */
  size: number;
  edge: [string, number][];
  tips: Record<string, [string, number]>;
  checkpoint_size?: number;
  key?: string;
  policies: string[];
  /** Approvals granted before the cut: who granted each, and whether a decision spent it (an approval permits one call). */
  approvals: Record<string, { by: string; spent: boolean }>;
  segments: SegmentManifest[];
  /** Where the latest compaction wrote its archive file; each archive names its own directory. */
  archive_dir: string;
  archives: ArchiveRef[];
  leaves: { file: string; sha256: string };
  carry?: string;
}

/** The base and its exact text (its SHA-256 is what the log recorded), or undefined when the log was never compacted. */
export function readBase(dir: string): { base: LogBase; text: string } | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, BASE_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LogCorruptError(BASE_FILE, 0, `the base of the compacted log cannot be read (${(e as Error).message})`);
  }
  const base = parseBase(text);
  if (!base) throw new LogCorruptError(BASE_FILE, 0, 'the base of the compacted log is malformed');
  return { base, text };
}

const isInt = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isHex = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
const isName = (s: unknown): s is string => typeof s === 'string' && /^[\w.-]+$/.test(s) && !s.startsWith('.');

const isGrant = (g: unknown): boolean =>
  typeof g === 'object' &&
  g !== null &&
  typeof (g as { by?: unknown }).by === 'string' &&
  typeof (g as { spent?: unknown }).spent === 'boolean';

const isFrontier = (edge: [string, number][], size: number): boolean => {
  try {
    return MerkleFrontier.fromJSON(edge).size === size;
  } catch {
    return false;
  }
};

function parseBase(text: string): LogBase | undefined {
  const b = parseJsonObject(text);
  if (!b || b.format !== BASE_FORMAT || !isInt(b.size) || !Array.isArray(b.edge) || !Array.isArray(b.policies)) return undefined;
  if (!b.tips || typeof b.tips !== 'object' || !b.approvals || typeof b.approvals !== 'object') return undefined;
  if (typeof b.archive_dir !== 'string' || !Array.isArray(b.archives) || !Array.isArray(b.segments)) return undefined;
  const leaves = b.leaves as { file?: unknown; sha256?: unknown } | undefined;
  if (!leaves || !isName(leaves.file) || !isHex(leaves.sha256)) return undefined;
  const archivesOk = (b.archives as Partial<ArchiveRef>[]).every(
    (a) => isName(a.file) && isInt(a.first_seq) && isInt(a.count) && isHex(a.sha256) && isInt(a.bytes) && typeof a.dir === 'string',
  );
  const segmentsOk = (b.segments as Partial<SegmentManifest>[]).every(
    (m) =>
      typeof m.segment === 'string' &&
      SEGMENT.test(m.segment) &&
      isInt(m.first_seq) &&
      isInt(m.count) &&
      isHex(m.root) &&
      isHex(m.sha256) &&
      isInt(m.bytes) &&
      (m.max_time === undefined || isTimeBound(m.max_time)),
  );
  if (!archivesOk || !segmentsOk || !b.policies.every((p) => typeof p === 'string')) return undefined;
  if (b.carry !== undefined && typeof b.carry !== 'string') return undefined;
  // The edge and the chain tips are read as they stand (verify starts from them): their shape must hold.
  const edgeOk = (b.edge as unknown[]).every((e) => Array.isArray(e) && e.length === 2 && isHex(e[0]) && isInt(e[1]));
  const tipsOk = Object.values(b.tips).every((t) => Array.isArray(t) && t.length === 2 && typeof t[0] === 'string' && isInt(t[1]));
  if (!edgeOk || !tipsOk || !isFrontier(b.edge as [string, number][], b.size) || !Object.values(b.approvals).every(isGrant))
    return undefined;
  if (b.checkpoint_size !== undefined && !isInt(b.checkpoint_size)) return undefined;
  if (b.key !== undefined && typeof b.key !== 'string') return undefined;
  // The segments and archives tile [0, size) in order.
  const tiles = (list: { first_seq: number; count: number }[]) =>
    list.every((x, i) => x.first_seq === (i === 0 ? 0 : list[i - 1]!.first_seq + list[i - 1]!.count)) &&
    list.reduce((n, x) => n + x.count, 0) === b.size;
  if (!tiles(b.segments as SegmentManifest[]) || !tiles(b.archives as ArchiveRef[])) return undefined;
  return b as unknown as LogBase;
}

/**
 * The segments the live log is made of: from the base's end on. Segments the base lists as
 * compacted are a compaction interrupted before it removed them (`stale`); any other segment
 * before the base's end is damage.
 */
export function liveSegments(dir: string): { segments: string[]; stale: string[]; base?: { base: LogBase; text: string } } {
  const all = listSegments(dir);
  const base = readBase(dir);
  if (!base) return { segments: all, stale: [] };
  const compacted = new Set(base.base.segments.map((m) => m.segment));
  const stale: string[] = [];
  const segments: string[] = [];
  for (const name of all) {
    if (firstSeqOf(name) >= base.base.size) segments.push(name);
    else if (compacted.has(name)) stale.push(name);
    else
      throw new LogCorruptError(name, 0, `the segment lies before the compacted base (seq ${base.base.size}) but is not one it compacted`);
  }
  return { segments, stale, base };
}

/** The leaf hashes of the compacted records, checked against the base (32 bytes each). */
export function readBaseLeaves(dir: string, base: LogBase): Buffer {
  let leaves: Buffer;
  try {
    leaves = readFileSync(join(dir, base.leaves.file));
  } catch (e) {
    throw new LogCorruptError(base.leaves.file, 0, `the compacted records' leaf hashes cannot be read (${(e as Error).message})`);
  }
  if (leaves.length !== base.size * 32 || sha256hex(leaves) !== base.leaves.sha256)
    throw new LogCorruptError(base.leaves.file, 0, 'the leaf hashes of the compacted records are not the ones the base names (sha256)');
  return leaves;
}

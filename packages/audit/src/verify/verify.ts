/**
 * `audit verify`: read the whole log from its files and check everything that makes it evidence —
 * every frame checksum, every record's fields, its position, its per-chain link, every sealed
 * segment against its manifest, every checkpoint's signature (pinned keys only) and Merkle root,
 * and that every decision names a policy version applied before it. Read-only; runs beside a live
 * daemon. Problems name the record (seq, id, file, byte offset) and the field.
 */
import type { Verifier } from '../note.js';
import type { Loc } from './chains.js';
import { LogFold } from './fold.js';
import { scanRecords } from './scan.js';
import { BufferSlots, pieceRuns, SegmentPieces, WINDOW, type SegmentDigest } from './pieces.js';
import { logSources, type SnapshotState, type SourceOptions } from './sources.js';

export { inWindow, type TimeWindow } from './window.js';

export interface VerifyOptions extends SourceOptions {
  /** Pinned checkpoint keys. Keys named inside the log are never trusted. */
  verifiers: readonly Verifier[];
  /** Count and list only records whose time falls in [from, to] (epoch ms); the whole log is checked regardless. */
  from?: number;
  to?: number;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Bytes read at a time (default `WINDOW`; tests make it small, so that pieces end everywhere). */
  pieceBytes?: number;
}

export interface Problem extends Loc {
  field: string;
  reason: string;
}

export interface VerifyReport {
  dir: string;
  ok: boolean;
  records: number;
  /** Records in the --from/--to window. */
  inWindow: number;
  segments: number;
  sealed: number;
  manifestsOk: number;
  chains: number;
  checkpoints: {
    total: number;
    verified: number;
    lastSize: number;
    origin?: string;
    signers: string[];
    /** Each signing key the log announced (`key_rotated`), with the record from which it signs. */
    keys: { from_seq: number; key: string }[];
  };
  /**
   * Records after the last verified checkpoint: not yet covered by a signature, only by the hash
   * chain, so whoever can write the log could rewrite or cut them unseen. A running daemon signs
   * them within seconds; a daemon stops by signing them; a crash leaves them for the next start.
   */
  unsigned: number;
  /** The first and last seq of those records (checkpoint records among them are not counted). */
  unsignedRange?: { from: number; to: number };
  policyVersions: number;
  dev: number;
  /**
   * Records compacted into archive files, when the log was compacted: verified from the base
   * (their leaf hashes, manifests and the record of the compaction), or read in full from the
   * archives (`includeArchived`).
   */
  compacted?: { records: number; segments: number; archives: number; included: boolean };
  /**
   * `snapshot.json`, which the check for records removed from the end compares with: 'damaged' (it
   * does not check out) or 'missing' means that check was not made. Reported, never a failure.
   */
  snapshot: SnapshotState;
  /** A partial frame at the end of the active segment: a crash (truncated on the next open) or a write in progress. */
  pendingTail?: { segment: string; offset: number; bytes: number };
  /** Every problem, in log order; the first is the first offending record. */
  problems: Problem[];
  /** How many problems there were in all (only the first 1,000 are kept). */
  problemCount: number;
}

/** Frames per run: the unit of scanning (and of progress reports). */
export const RUN_FRAMES = 8192;

export function verifyLog(dir: string, options: VerifyOptions): VerifyReport {
  const log = logSources(dir, options);
  const fold = new LogFold(dir, log, options);
  // One buffer, reused for every piece of every segment.
  const pieceBytes = options.pieceBytes ?? WINDOW;
  const slots = new BufferSlots(2 * pieceBytes);
  for (let i = 0; i < log.sources.length; i++) {
    const src = log.sources[i]!;
    const pieces = new SegmentPieces(src, i, slots, !src.active, pieceBytes);
    let from: number | undefined;
    let digest: SegmentDigest | undefined;
    for (let piece = pieces.next(); piece; piece = pieces.next()) {
      // Records start after the header, in the first piece, and at the start of each later one.
      from = piece.first ? fold.beginSegment(i, piece.bytes) : from === undefined ? undefined : 0;
      if (from !== undefined)
        for (const run of pieceRuns(piece, from, RUN_FRAMES))
          fold.fold(scanRecords(piece.bytes, run.from, run.stop, options, piece.base), piece);
      slots.give(piece.bytes);
      digest = piece.digest;
    }
    fold.endSegment(digest!);
  }
  return fold.finish();
}

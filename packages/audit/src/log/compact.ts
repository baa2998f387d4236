/**
 * Compaction: old sealed segments move out of the log directory into one archive file, and the
 * base (`base.ts`) keeps what the live log and its verification need from them. Only a run of
 * sealed segments at the start of the live log is compacted, and each is replayed as it is copied:
 * its bytes must match its manifest, its records must be the ones that follow, and its Merkle root
 * must come out as the manifest says. Nothing is removed here; the writer removes the segments once
 * the log has recorded the compaction and the base is durable (see `AuditLog.compact`).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '@faramesh/protocol';
import { walkFrames } from '../frames.js';
import { leafHash } from '../merkle.js';
import { ApprovalLedger } from '../verify/approvals.js';
import { approvalEvent } from '../verify/scan.js';
import { ARCHIVE_FORMAT, archiveName, BASE_FORMAT, leavesName, readBaseLeaves, type ArchiveRef, type LogBase } from './base.js';
import { LogCorruptError } from './errors.js';
import { fileSha256, fsyncDir, manifestName, writeDurable } from './files.js';
import { parseHeader, parseJsonObject, readManifest, sha256hex, type SegmentManifest } from './manifest.js';
import { chainOf, SequencerState } from './sequencer.js';

export interface CompactOptions {
  /** Compact sealed segments whose every record is older than this (epoch ms) … */
  before: number;
  /** … and that end at or before this seq (records a reader still needs stay live). */
  maxSeq?: number;
  /** Where the archive file goes (created if missing). */
  archiveDir: string;
  /** The daemon's state snapshot, kept in the base (opaque here). */
  carry?: string;
  /** Who asked, for the `log_compacted` record. */
  by?: string;
}

export interface CompactResult {
  /** Records moved to the archive by this compaction (0: nothing was old enough). */
  records: number;
  segments: number;
  /** Records compacted in all, by this compaction and earlier ones. */
  size: number;
  archive?: string;
  /**
   * Set when a sealed segment old enough to compact was kept live because a reader still needs it
   * (`maxSeq`): the records from this seq on stay.
   */
  held?: number;
}

/**
 * The sealed segments to compact: the longest run at the start of `live` (never the active segment)
 * whose manifests say every record is older than `before` and that ends by `maxSeq`; and `held`
 * when the run stopped at `maxSeq` rather than at a segment too recent.
 */
export function planCompaction(
  dir: string,
  live: readonly string[],
  active: string,
  o: CompactOptions,
): { plan: SegmentManifest[]; held?: number } {
  const plan: SegmentManifest[] = [];
  for (const name of live) {
    if (name === active) break;
    const m = readManifest(dir, name);
    if (typeof m === 'string' || m.max_time === undefined || m.count === 0) break;
    if (!(Date.parse(m.max_time) < o.before)) break;
    if (m.first_seq + m.count > (o.maxSeq ?? Infinity)) return { plan, held: o.maxSeq! };
    plan.push(m);
  }
  return { plan };
}

/**
 * Write the archive of `plan` and the leaves file of the new base; return the base (not yet
 * written) and the archive. `previous` is the current base, if the log was compacted before.
 */
export async function writeCompaction(
  dir: string,
  plan: readonly SegmentManifest[],
  previous: LogBase | undefined,
  o: CompactOptions,
): Promise<{ base: LogBase; text: string; archive: ArchiveRef }> {
  const state = previous ? SequencerState.at(previous) : new SequencerState();
  const policies = new Set(previous?.policies);
  const approvals = new ApprovalLedger();
  if (previous) approvals.seed(previous.approvals);
  const leaves: Buffer[] = previous ? [readBaseLeaves(dir, previous)] : [];
  const first = plan[0]!.first_seq;
  const end = plan[plan.length - 1]!.first_seq + plan[plan.length - 1]!.count;
  mkdirSync(o.archiveDir, { recursive: true, mode: 0o700 });
  const file = archiveName(first, end);
  const tmp = join(o.archiveDir, `.${file}.tmp`);
  // A copy an interrupted compaction from the same record left (a crash mid-copy): never an archive,
  // and named by the end the log had then, so no later compaction would write over it.
  const from = `.${archiveName(first, 0).replace(/-0{16}\.archive$/, '-')}`;
  for (const name of readdirSync(o.archiveDir))
    if (name.startsWith(from) && name.endsWith('.archive.tmp')) rmSync(join(o.archiveDir, name), { force: true });
  const fd = openSync(tmp, 'wx', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  const write = (b: Buffer) => {
    for (let done = 0; done < b.length;) done += writeSync(fd, b, done, b.length - done);
    hash.update(b);
    bytes += b.length;
  };
  try {
    write(Buffer.from(canonicalJson({ format: ARCHIVE_FORMAT, first_seq: first, count: end - first, segments: plan }) + '\n'));
    for (const m of plan) {
      const segment = await readFile(join(dir, m.segment));
      if (segment.length !== m.bytes || sha256hex(segment) !== m.sha256)
        throw new LogCorruptError(m.segment, 0, 'the sealed segment no longer matches its manifest (sha256): not compacted');
      leaves.push(replay(m, segment, state, policies, approvals));
      write(segment);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  const sha256 = hash.digest('hex');
  // An archive of that name already there is another log's (a shared archive directory, a log
  // destroyed and started again) unless it is this very archive (a compaction interrupted before it
  // was recorded): never replaced, or the only copy of that log's records would be lost.
  const target = join(o.archiveDir, file);
  if (existsSync(target) && fileSha256(target) !== sha256) {
    rmSync(tmp, { force: true });
    throw new Error(
      `${target} already exists and holds other records (another log's archive?): not compacted; archive elsewhere (--archive DIR)`,
    );
  }
  renameSync(tmp, target);
  fsyncDir(o.archiveDir);
  const archive: ArchiveRef = { file, dir: o.archiveDir, first_seq: first, count: end - first, sha256, bytes };
  const allLeaves = Buffer.concat(leaves);
  writeDurable(dir, leavesName(end), allLeaves);
  const base: LogBase = {
    format: BASE_FORMAT,
    size: end,
    edge: state.frontier.toJSON(),
    tips: state.tipsJSON(),
    ...(state.checkpointSize !== undefined ? { checkpoint_size: state.checkpointSize } : {}),
    ...(state.key !== undefined ? { key: state.key } : {}),
    policies: [...policies],
    approvals: approvals.entries(),
    segments: [...(previous?.segments ?? []), ...plan],
    archive_dir: o.archiveDir,
    // Each archive keeps the directory it went to: a later compaction may write elsewhere.
    archives: [...(previous?.archives ?? []), archive],
    leaves: { file: leavesName(end), sha256: sha256hex(allLeaves) },
    ...(o.carry !== undefined ? { carry: o.carry } : {}),
  };
  return { base, text: canonicalJson(base), archive };
}

/** Advance the state over a sealed segment's records, checking them as recovery does; their leaf hashes. */
function replay(m: SegmentManifest, bytes: Buffer, state: SequencerState, policies: Set<string>, approvals: ApprovalLedger): Buffer {
  const leaves = Buffer.allocUnsafe(m.count * 32);
  let header = true;
  let n = 0;
  for (const step of walkFrames(bytes)) {
    if (step.kind !== 'frame' || !step.crcOk) throw new LogCorruptError(m.segment, step.offset, 'a damaged frame: not compacted');
    if (header) {
      header = false;
      if (parseHeader(step.payload)?.first_seq !== state.nextSeq)
        throw new LogCorruptError(m.segment, 0, `the segment does not start at seq ${state.nextSeq}: not compacted`);
      continue;
    }
    const record = parseJsonObject(step.payload);
    if (!record || record.seq !== state.nextSeq || n >= m.count)
      throw new LogCorruptError(m.segment, step.offset, `expected record seq ${state.nextSeq}: not compacted`, state.nextSeq);
    const leaf = leafHash(step.payload);
    leaf.copy(leaves, n++ * 32);
    state.advance(chainOf(record), Number(record.lamport_seq), leaf, record);
    if (record.type === 'policy_applied' && typeof record.policy_version === 'string') policies.add(record.policy_version);
    // As verify takes them: an event it would report changes nothing.
    const event = approvalEvent(record, 0);
    if (event) approvals.take(event);
  }
  if (n !== m.count || Buffer.from(state.frontier.root()).toString('hex') !== m.root)
    throw new LogCorruptError(m.segment, 0, 'the records do not come out as the manifest says (count, Merkle root): not compacted');
  return leaves;
}

/** Remove compacted segments (and a leaves file the new base replaced) once the base is durable. */
export function removeCompacted(dir: string, segments: readonly string[], ...oldLeaves: (string | undefined)[]): void {
  for (const name of [...segments.flatMap((s) => [manifestName(s), s]), ...oldLeaves.filter((n) => n !== undefined)])
    rmSync(join(dir, name), { force: true });
  fsyncDir(dir);
}

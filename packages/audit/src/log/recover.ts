/**
 * Opening a log: rebuild the sequencer's state from what is durable.
 *
 * With a valid snapshot, sealed segments before it are checked by their manifests' sizes and
 * sequence ranges only, and records are read from the snapshot's offset on — opening costs the
 * tail, not the history. Without one, every segment is read and checked in full. Either way a torn
 * final frame is truncated (it was never acknowledged) and any other damage refuses to open.
 */
import { existsSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { dataEnd, scanFrames } from '../frames.js';
import { isCanonicalForm } from '../canonical-form.js';
import { openCheckpoint } from '../checkpoint.js';
import { encodeVerifierKey } from '../keys.js';
import { leafHash, rootOf, TREE_HISTORY as HISTORY, type TreeState } from '../merkle.js';
import type { Verifier } from '../note.js';
import { GENESIS_HASH } from '../record.js';
import { leafAt } from '../read/follower.js';
import { LogCorruptError } from './errors.js';
import { BASE_FILE, LEAVES, liveSegments } from './base.js';
import { removeCompacted } from './compact.js';
import { firstSeqOf, manifestName, readFileFrom } from './files.js';
import { createSegment, parseHeader, parseJsonObject, readManifest, sha256hex, type SegmentManifest } from './manifest.js';
import { chainOf, SequencerState } from './sequencer.js';
import { readSnapshot, SNAPSHOT_FILE, type Snapshot } from './snapshot.js';

export interface OpenReport {
  /** Records in the log. */
  records: number;
  /** Records read to open it (the tail after the snapshot, or all of them). */
  scanned: number;
  snapshot: 'used' | 'absent' | 'unusable';
  /** A torn final frame was cut off here (it was never acknowledged). */
  truncated?: { segment: string; offset: number; bytes: number };
}

/**
 * What recovery checks the records it reads against, so that a log altered on disk is refused rather
 * than signed over: the tree states of recent sizes (each checkpoint record's root must be the tree
 * at its size) and, when the log is opened to sign, the signer's key (its own checkpoints' signatures).
 */
class Checks {
  private readonly states = new Array<TreeState | undefined>(HISTORY);
  private readonly key?: string;

  constructor(
    state: SequencerState,
    private readonly signer?: Verifier,
  ) {
    if (signer) this.key = encodeVerifierKey(signer);
    this.remember(state);
  }

  remember(state: SequencerState): void {
    this.states[state.nextSeq % HISTORY] = state.frontier.state();
  }

  /** Why `entry` (about to be record `state.nextSeq`) does not follow what precedes it, or undefined. */
  check(entry: Record<string, unknown>, payload: Buffer, state: SequencerState): string | undefined {
    if (!isCanonicalForm(entry, payload))
      return 'the record is not in its canonical form (RFC 8785), which the log alone writes: the log was altered (run faramesh audit verify)';
    const tip = state.tips.get(chainOf(entry));
    if (entry.lamport_seq !== (tip?.lamport ?? -1) + 1 || entry.prev_hash !== (tip?.hash ?? GENESIS_HASH))
      return `the record does not link to the previous record of its chain (lamport_seq, prev_hash): the log was altered (run faramesh audit verify)`;
    if (entry.type !== 'checkpoint' || typeof entry.note !== 'string') return undefined;
    const [, size, root] = entry.note.split('\n');
    const n = Number(size);
    const at = this.states[n % HISTORY];
    if (Number.isSafeInteger(n) && at?.size === n && Buffer.from(rootOf(at)).toString('base64') !== root)
      return `the records no longer match the checkpoint's tree of ${n}: the log was altered (run faramesh audit verify)`;
    if (this.signer && entry.key === this.key && !openCheckpoint(entry.note, [this.signer]).ok)
      return 'the checkpoint is not signed by the key it names: the log was altered (run faramesh audit verify)';
    return undefined;
  }
}

export function recover(dir: string, signer?: Verifier): { state: SequencerState; report: OpenReport } {
  const { segments, stale, base } = liveSegments(dir);
  // A compaction interrupted after its base was written: finish removing what it archived. A leaves
  // file the base does not name is the previous base's (or one whose base was never written): as
  // large as the archived records are many, and never read again.
  const orphans = readdirSync(dir).filter((name) => LEAVES.test(name) && name !== base?.base.leaves.file);
  if (stale.length > 0 || orphans.length > 0) removeCompacted(dir, stale, ...orphans);
  const first = base?.base.size ?? 0;
  const fresh = (): SequencerState => {
    if (!base) return new SequencerState();
    try {
      return SequencerState.at(base.base);
    } catch (e) {
      throw new LogCorruptError(BASE_FILE, 0, `the base of the compacted log is inconsistent (${(e as Error).message})`);
    }
  };
  const snap = readSnapshot(dir);
  if (segments.length === 0) {
    // Segments are never removed but by compaction: a snapshot past the base with none left means
    // the log was taken away, and starting afresh would erase the only evidence of it (and every
    // budget it counted).
    if (snap === 'damaged' || (snap && snap.size > first))
      throw new LogCorruptError(
        snap === 'damaged' ? SNAPSHOT_FILE : snap.segment,
        0,
        `the log's segments are gone, but its snapshot remembers ${snap === 'damaged' ? 'records' : `${snap.size} records`}`,
      );
    const created = createSegment(dir, first);
    const state = fresh();
    state.startSegment(created.name, first, created.headerBytes);
    return { state, report: { records: first, scanned: 0, snapshot: 'absent' } };
  }
  // A snapshot from before the last compaction describes records that are archived now: not used.
  const usable = snap && snap !== 'damaged' && snap.size >= first && snap.segment_first_seq >= first;
  const resumed = usable ? resume(dir, segments, snap, first) : undefined;
  const state = resumed ?? fresh();
  const report: OpenReport = { records: 0, scanned: 0, snapshot: resumed ? 'used' : snap ? 'unusable' : 'absent' };
  const startIndex = resumed ? segments.indexOf(resumed.segment) : 0;
  const checks = new Checks(state, signer);
  // A sealed last segment is a crash between sealing it and starting the next: start the next now.
  const lastSealed = existsSync(join(dir, manifestName(segments[segments.length - 1]!)));
  for (let i = startIndex; i < segments.length; i++) {
    const name = segments[i]!;
    const from = resumed && i === startIndex ? resumed.segmentBytes : 0;
    readSegment(dir, name, from, state, i === segments.length - 1 && !lastSealed, report, checks);
  }
  if (lastSealed) {
    const created = createSegment(dir, state.nextSeq);
    state.startSegment(created.name, state.nextSeq, created.headerBytes);
  }
  report.records = state.nextSeq;
  return { state, report };
}

/** The state a snapshot holds, if it fits the segments on disk (else a full scan is due). */
function resume(dir: string, segments: string[], snap: Snapshot, first: number): SequencerState | undefined {
  const at = segments.indexOf(snap.segment);
  // The segment the snapshot ends in is gone (segments are never removed): records were taken away.
  if (at === -1)
    throw new LogCorruptError(snap.segment, 0, `the segment is missing, but the snapshot remembers ${snap.size} records up to it`);
  // The first segments are gone: the log starts at seq 0 (or where its compacted base ends), whatever the snapshot says.
  if (firstSeqOf(segments[0]!) !== first)
    throw new LogCorruptError(segments[0]!, 0, `the log starts at seq ${firstSeqOf(segments[0]!)}: a segment is missing`);
  if (firstSeqOf(snap.segment) !== snap.segment_first_seq) return undefined;
  // A snapshot from before it kept the last record's place: a full scan finds it (once; the next
  // snapshot keeps it). Without it, a state snapshot taken before any append could not be matched.
  if (snap.last === undefined && snap.size > first) return undefined;
  let state: SequencerState;
  try {
    state = SequencerState.fromSnapshot(snap);
  } catch {
    return undefined;
  }
  // The snapshot is written only once its last record is durable, so that record must still be
  // where the snapshot says. Reading on from the offset alone would not notice records before it
  // zeroed or damaged: the log would open, and every record appended after the hole would be
  // unreadable (readers stop at the first zero frame).
  // (A segment shorter than the snapshot's offset is said as such when it is read.)
  const cutShort = statSync(join(dir, snap.segment)).size < snap.offset;
  if (
    !cutShort &&
    snap.last !== undefined &&
    segments.includes(snap.last.segment) &&
    leafAt(dir, snap.last.segment, snap.last.offset) !== snap.last.leaf
  )
    throw new LogCorruptError(
      snap.last.segment,
      snap.last.offset,
      `the record the snapshot ends at (seq ${snap.size - 1}) is not there: acknowledged records are missing or damaged`,
      snap.size - 1,
    );
  // Sealed segments before it: present, whole and contiguous, judged by their manifests.
  for (let i = 0; i < at; i++) {
    const name = segments[i]!;
    const m = readManifest(dir, name);
    if (typeof m === 'string') throw new LogCorruptError(name, 0, m);
    if (m.first_seq !== firstSeqOf(name) || m.first_seq + m.count !== firstSeqOf(segments[i + 1]!))
      throw new LogCorruptError(name, 0, 'a segment is missing or out of order');
    if (statSync(join(dir, name)).size !== m.bytes)
      throw new LogCorruptError(name, 0, 'the sealed segment no longer matches its manifest (length)');
  }
  return state;
}

/** Read `name` from byte `from` (0: from its header), advancing the state over every record. */
function readSegment(
  dir: string,
  name: string,
  from: number,
  state: SequencerState,
  final: boolean,
  report: OpenReport,
  checks: Checks,
): void {
  const path = join(dir, name);
  const bytes = readFileFrom(path, from);
  if (!bytes) throw new LogCorruptError(name, from, 'the segment is shorter than the snapshot says: acknowledged records are missing');
  const scan = scanFrames(bytes);
  if (!scan.ok)
    throw new LogCorruptError(name, from + scan.corruptAt, scan.reason, state.nextSeq + Math.max(0, scan.frames.length - (from ? 0 : 1)));
  if (scan.tornAt !== undefined && !final) throw new LogCorruptError(name, from + scan.tornAt, 'a sealed segment ends in a partial frame');
  let frames = scan.frames;
  if (from === 0) {
    const header = parseHeader(frames[0]?.payload);
    if (!header || header.first_seq !== state.nextSeq) {
      throw new LogCorruptError(
        name,
        0,
        header
          ? `segment starts at seq ${header.first_seq}, expected ${state.nextSeq} (a segment is missing or out of order)`
          : 'missing segment header',
      );
    }
    state.startSegment(name, header.first_seq, frames[0]!.payload.length + 8);
    frames = frames.slice(1);
  } else {
    state.segment = name;
  }
  for (const frame of frames) {
    const entry = parseJsonObject(frame.payload);
    if (!entry || entry.seq !== state.nextSeq)
      throw new LogCorruptError(
        name,
        from + frame.offset,
        entry ? `expected seq ${state.nextSeq}, found ${String(entry.seq)}` : 'a record is not JSON',
        state.nextSeq,
      );
    const altered = checks.check(entry, frame.payload, state);
    if (altered) throw new LogCorruptError(name, from + frame.offset, altered, state.nextSeq);
    const leaf = leafHash(frame.payload);
    state.advance(chainOf(entry), Number(entry.lamport_seq), leaf, entry);
    checks.remember(state);
    report.scanned++;
    if (frame === frames[frames.length - 1]) state.last = { segment: name, offset: from + frame.offset, leaf: leaf.toString('hex') };
  }
  const end = from + scan.end;
  state.segmentBytes = end;
  if (!final) {
    const m = readManifest(dir, name);
    if (typeof m === 'string') throw new LogCorruptError(name, 0, m);
    checkManifest(name, m, state, end, from === 0 ? bytes : undefined);
  } else if (scan.tornAt !== undefined) {
    report.truncated = { segment: name, offset: end, bytes: from + dataEnd(bytes) - end };
    truncateSync(path, end);
  }
}

/** A sealed segment must match its manifest: records, Merkle root, length, and (when read whole) its hash. */
function checkManifest(name: string, m: SegmentManifest, state: SequencerState, length: number, whole: Buffer | undefined): void {
  if (whole && m.sha256 !== sha256hex(whole))
    throw new LogCorruptError(name, 0, 'the sealed segment no longer matches its manifest (sha256)');
  if (m.first_seq !== state.segmentFirstSeq || m.count !== state.nextSeq - state.segmentFirstSeq || m.bytes !== length)
    throw new LogCorruptError(name, 0, 'the manifest disagrees with the segment about its records');
  if (m.root !== Buffer.from(state.frontier.root()).toString('hex'))
    throw new LogCorruptError(name, 0, 'the manifest Merkle root does not match the records');
  if (m.max_time !== undefined && state.segmentMaxTime !== null && m.max_time !== state.segmentMaxTime)
    throw new LogCorruptError(name, 0, 'the manifest max_time is not the latest record time of the segment');
}

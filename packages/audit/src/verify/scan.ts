/**
 * The per-record half of verification: everything that needs one record alone — its checksum,
 * leaf hash, JSON and fields — with nothing that depends on the records before it. Runs of frames
 * can therefore be scanned in any order, on worker threads, and folded in log order afterwards
 * (`fold.ts`). The result is columnar, one entry per frame, so it crosses threads cheaply.
 */
import { walkFrames, type FrameStep } from '../frames.js';
import { leafHashHex } from '../merkle.js';
import { parseJsonObject } from '../log/manifest.js';
import { chainOf } from '../log/sequencer.js';
import { foldTime } from '../log/time-bound.js';
import { checkFields, type FieldProblem } from './fields.js';
import { inWindow, type TimeWindow } from './window.js';
import type { ScanResult, ScanTask } from './parallel.js';

/** What a record is to the fold, beyond its chain link (numbers: they cross threads cheaply). */
export const Kind = {
  /** Not a JSON object. */
  Unreadable: 0,
  Other: 1,
  /** A `policy_applied` record: `policies[i]` is the version it applies. */
  AppliesPolicy: 2,
  /** A decision: `policies[i]` is the version it was made under. */
  Decision: 3,
  /** A checkpoint: its note and size are in `checkpoints`. */
  Checkpoint: 4,
  /** A `log_compacted` record: the base it names is in `compactions`. */
  Compacted: 5,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface RecordScan {
  /** Frames read (the records of the run). */
  count: number;
  offsets: number[];
  crcOk: boolean[];
  kinds: Kind[];
  /** Leaf hashes, 32 bytes each, back to back. */
  leaves: Uint8Array;
  leafHex: string[];
  ids: (string | undefined)[];
  /** The fields as found, for the fold to check against what precedes them. */
  seqs: unknown[];
  lamports: unknown[];
  prevs: unknown[];
  chains: string[];
  policies: (string | undefined)[];
  /** Checkpoints (`note`, `size`, the `key` the record names) and key rotations (`rotatedTo`), in order. */
  checkpoints: CheckpointEntry[];
  compactions: Compaction[];
  /** Approvals granted (`approval_resolved`, approved) and spent (a decision permitted by one), in order. */
  approvals: ApprovalEvent[];
  /** Schema problems, by frame index. */
  fieldProblems: { index: number; problems: FieldProblem[] }[];
  dev: number;
  inWindow: number;
  /** The latest record time of the run, as the segment manifest's `max_time` is made (`foldTime`). */
  maxTime: string | null;
  /** Payload and header bytes read, for progress. */
  bytes: number;
  /** What ended the records, when this run met it. */
  end?: Exclude<FrameStep, { kind: 'frame' }>;
}

/** A checkpoint record, or (with `rotatedTo`) a `key_rotated` record naming the key that signs from there on. */
export interface CheckpointEntry {
  index: number;
  note: unknown;
  size: unknown;
  key: unknown;
  rotatedTo?: unknown;
}

/**
 * Scan the frames that start in [from, stop) of `bytes`: a segment, or a part of one that starts at
 * byte `base` of it (offsets are reported in the segment).
 */
export function scanRecords(bytes: Buffer, from: number, stop: number, window: TimeWindow, base = 0): RecordScan {
  const scan: RecordScan = {
    count: 0,
    offsets: [],
    crcOk: [],
    kinds: [],
    leaves: new Uint8Array(0),
    leafHex: [],
    ids: [],
    seqs: [],
    lamports: [],
    prevs: [],
    chains: [],
    policies: [],
    checkpoints: [],
    compactions: [],
    approvals: [],
    fieldProblems: [],
    dev: 0,
    inWindow: 0,
    maxTime: '',
    bytes: 0,
  };
  for (const step of walkFrames(bytes, from, stop)) {
    if (step.kind !== 'frame') {
      scan.end = { ...step, offset: base + step.offset };
      break;
    }
    const i = scan.count++;
    scan.leafHex.push(leafHashHex(step.payload));
    scan.offsets.push(base + step.offset);
    scan.crcOk.push(step.crcOk);
    scan.bytes += step.payload.length + 8;
    const record = parseJsonObject(step.payload);
    scan.maxTime = foldTime(scan.maxTime, record?.time);
    if (!record) {
      scan.kinds.push(Kind.Unreadable);
      scan.ids.push(undefined);
      scan.seqs.push(undefined);
      scan.lamports.push(undefined);
      scan.prevs.push(undefined);
      scan.chains.push('');
      scan.policies.push(undefined);
      continue;
    }
    scan.ids.push(typeof record.id === 'string' ? record.id : undefined);
    scan.seqs.push(record.seq);
    scan.lamports.push(record.lamport_seq);
    scan.prevs.push(record.prev_hash);
    scan.chains.push(chainOf(record));
    const problems = checkFields(record);
    if (problems.length > 0) scan.fieldProblems.push({ index: i, problems });
    if (record.dev === true) scan.dev++;
    if (inWindow(record.time, window)) scan.inWindow++;
    const version = typeof record.policy_version === 'string' ? record.policy_version : undefined;
    if (record.type === 'policy_applied' && version !== undefined) scan.kinds.push(Kind.AppliesPolicy);
    else if (record.type === 'decision' && version !== undefined) scan.kinds.push(Kind.Decision);
    else if (record.type === 'checkpoint') {
      scan.kinds.push(Kind.Checkpoint);
      scan.checkpoints.push({ index: i, note: record.note, size: record.size, key: record.key });
    } else if (record.type === 'key_rotated') {
      scan.kinds.push(Kind.Checkpoint);
      scan.checkpoints.push({ index: i, note: undefined, size: undefined, key: undefined, rotatedTo: record.key });
    } else if (record.type === 'log_compacted') {
      scan.kinds.push(Kind.Compacted);
      scan.compactions.push({ index: i, size: record.size, base: record.base_sha256 });
    } else scan.kinds.push(Kind.Other);
    scan.policies.push(version);
    const event = approvalEvent(record, i);
    if (event) scan.approvals.push(event);
  }
  // A buffer of its own (never a slice of Node's pool), so it can be transferred to another thread.
  const leaves = Buffer.allocUnsafeSlow(scan.count * 32);
  leaves.write(scan.leafHex.join(''), 'hex');
  scan.leaves = leaves;
  return scan;
}

/** A `log_compacted` record: the size and base hash it names. */
export interface Compaction {
  index: number;
  size: unknown;
  base: unknown;
}

/**
 * An approval granted by an operator, or spent by the decision it permitted. Each is a separate
 * record, so whoever edits a decision to say it was approved must also forge the grant before it.
 */
export interface ApprovalEvent {
  index: number;
  id: string;
  by: string;
  grant: boolean;
}

export function approvalEvent(record: Record<string, unknown>, index: number): ApprovalEvent | undefined {
  if (record.type === 'approval_resolved' && record.outcome === 'approved' && typeof record.approval_id === 'string')
    return { index, id: record.approval_id, by: String(record.by), grant: true };
  const spent = record.type === 'decision' ? record.approval : undefined;
  if (typeof spent === 'object' && spent !== null && typeof (spent as { id?: unknown }).id === 'string') {
    const { id, approved_by } = spent as { id: string; approved_by?: unknown };
    return { index, id, by: String(approved_by), grant: false };
  }
  return undefined;
}

/** The last record a run holds of one chain: the chain's tip after the run. */
export interface RunTip {
  index: number;
  offset: number;
  id: string | undefined;
  hash: string;
  lamport: number;
}

/**
 * A clean run in brief: every record read, checksummed, well-formed, numbered consecutively and
 * linked to the one before it in its chain. The fold then only has to check how the run joins what
 * precedes it (its first seq, each chain's first link, the policies its decisions use) and grow the
 * tree; the per-record columns need not cross threads.
 */
export interface RunSummary {
  count: number;
  firstSeq: number;
  leaves: Uint8Array;
  /** Per chain: its first record's link, and its last record. */
  chains: { chain: string; firstLamport: number; firstPrev: string; last: RunTip }[];
  /** Each policy version applied in the run, and the index of the first record applying it. */
  applied: [string, number][];
  /** Each policy version decisions were made under, and the index of the first such decision. */
  decided: [string, number][];
  checkpoints: (CheckpointEntry & { offset: number; id: string | undefined })[];
  compactions: Compaction[];
  approvals: ApprovalEvent[];
  dev: number;
  inWindow: number;
  maxTime: string | null;
  bytes: number;
  end?: RecordScan['end'];
}

/** The summary of a clean run, or undefined when any record needs the full fold to be judged. */
export function summarize(scan: RecordScan): RunSummary | undefined {
  if (scan.fieldProblems.length > 0) return undefined;
  const firstSeq = scan.seqs[0];
  if (scan.count > 0 && !Number.isSafeInteger(firstSeq)) return undefined;
  const chains = new Map<string, { chain: string; firstLamport: number; firstPrev: string; last: RunTip }>();
  const applied = new Map<string, number>();
  const decided = new Map<string, number>();
  const checkpoints: RunSummary['checkpoints'] = [];
  for (let i = 0; i < scan.count; i++) {
    const kind = scan.kinds[i]!;
    const lamport = scan.lamports[i];
    const prev = scan.prevs[i];
    if (kind === Kind.Unreadable || !scan.crcOk[i] || scan.seqs[i] !== (firstSeq as number) + i) return undefined;
    if (typeof lamport !== 'number' || typeof prev !== 'string') return undefined;
    const chain = scan.chains[i]!;
    const seen = chains.get(chain);
    if (seen && (lamport !== seen.last.lamport + 1 || prev !== seen.last.hash)) return undefined;
    const last: RunTip = { index: i, offset: scan.offsets[i]!, id: scan.ids[i], hash: scan.leafHex[i]!, lamport };
    if (seen) seen.last = last;
    else chains.set(chain, { chain, firstLamport: lamport, firstPrev: prev, last });
    const version = scan.policies[i]!;
    if (kind === Kind.AppliesPolicy && !applied.has(version)) applied.set(version, i);
    if (kind === Kind.Decision && !decided.has(version)) decided.set(version, i);
  }
  for (const c of scan.checkpoints) checkpoints.push({ ...c, offset: scan.offsets[c.index]!, id: scan.ids[c.index] });
  return {
    count: scan.count,
    firstSeq: scan.count > 0 ? (firstSeq as number) : 0,
    leaves: scan.leaves,
    chains: [...chains.values()],
    applied: [...applied],
    decided: [...decided],
    checkpoints,
    compactions: scan.compactions,
    approvals: scan.approvals,
    dev: scan.dev,
    inWindow: scan.inWindow,
    maxTime: scan.maxTime,
    bytes: scan.bytes,
    ...(scan.end ? { end: scan.end } : {}),
  };
}

/** A run scanned for the fold (on a worker, or on the main thread): a clean run's summary, else the whole scan; and the memory to transfer back. */
export function scanTask(task: ScanTask): { result: ScanResult; transfer: ArrayBuffer[] } {
  const scan = scanRecords(Buffer.from(task.bytes, 0, task.length), task.from, task.stop, task.window, task.base);
  const summary = summarize(scan);
  return { result: summary ? { summary } : { scan }, transfer: [scan.leaves.buffer as ArrayBuffer] };
}

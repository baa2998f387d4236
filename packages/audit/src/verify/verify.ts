/**
 * `audit verify`: read the whole log from its files and check everything that makes it evidence —
 * every frame checksum, every record's fields, its position, its per-chain link, every sealed
 * segment against its manifest, every checkpoint's signature (pinned keys only) and Merkle root,
 * and that every decision names a policy version applied before it. Read-only; runs beside a live
 * daemon. Problems name the record (seq, id, file, byte offset) and the field.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../checkpoint.js';
import { dataEnd, walkFrames } from '../frames.js';
import { leafHash, MerkleFrontier, rootOf, type TreeState } from '../merkle.js';
import type { Verifier } from '../note.js';
import { listSegments, manifestName, SEGMENT } from '../log/files.js';
import { parseHeader, parseJsonObject, readManifest, sha256hex } from '../log/manifest.js';
import { readSnapshot } from '../log/snapshot.js';
import { chainOf } from '../log/sequencer.js';
import { ChainChecker, type Loc } from './chains.js';
import { checkFields } from './fields.js';

export interface VerifyOptions {
  /** Pinned checkpoint keys. Keys named inside the log are never trusted. */
  verifiers: readonly Verifier[];
  /** Count and list only records whose time falls in [from, to] (epoch ms); the whole log is checked regardless. */
  from?: number;
  to?: number;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
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
  checkpoints: { total: number; verified: number; lastSize: number; origin?: string; signers: string[] };
  /** Records after the last verified checkpoint: not yet covered by a signature. */
  unsigned: number;
  policyVersions: number;
  dev: number;
  /** A partial frame at the end of the active segment: a crash (truncated on the next open) or a write in progress. */
  pendingTail?: { segment: string; offset: number; bytes: number };
  /** Every problem, in log order; the first is the first offending record. */
  problems: Problem[];
  /** How many problems there were in all (only the first 1,000 are kept). */
  problemCount: number;
}

/** How far back a checkpoint may sign: the verifier keeps this many past tree states. */
const HISTORY = 1 << 16;
const MAX_PROBLEMS = 1000;

export function verifyLog(dir: string, options: VerifyOptions): VerifyReport {
  const segments = listSegments(dir);
  if (segments.length === 0) throw new Error(`no audit log in ${dir} (no segment files)`);
  const total = segments.reduce((n, s) => n + statSync(join(dir, s)).size, 0);
  const report: VerifyReport = {
    dir,
    ok: false,
    records: 0,
    inWindow: 0,
    segments: segments.length,
    sealed: 0,
    manifestsOk: 0,
    chains: 0,
    checkpoints: { total: 0, verified: 0, lastSize: 0, signers: [] },
    unsigned: 0,
    policyVersions: 0,
    dev: 0,
    problems: [],
    problemCount: 0,
  };
  const problems: Problem[] = [];
  /** A manifest mismatch is a consequence of a record problem in its segment, when there is one: reported there, after it. */
  const manifestProblems: (Problem & { end: number })[] = [];
  const problem = (at: Loc, field: string, reason: string): void => {
    problems.push({ ...at, field, reason });
  };
  const chains = new ChainChecker();
  const tree = new MerkleFrontier();
  const history: TreeState[] = new Array<TreeState>(HISTORY);
  history[0] = tree.state();
  const policies = new Set<string>();
  const signers = new Set<string>();
  const checkpointSeqs: number[] = [];
  let seq = 0;
  let done = 0;

  for (const [i, name] of segments.entries()) {
    const bytes = readFileSync(join(dir, name));
    const last = i === segments.length - 1;
    const segLoc: Loc = { seq, segment: name, offset: 0 };
    let header = true;
    let firstSeq = seq;
    for (const step of walkFrames(bytes)) {
      if (step.kind === 'torn') {
        if (last) report.pendingTail = { segment: name, offset: step.offset, bytes: dataEnd(bytes) - step.offset };
        else problem({ seq, segment: name, offset: step.offset }, 'frame', 'a sealed segment ends in a partial frame');
        break;
      }
      if (step.kind === 'impossible') {
        problem({ seq, segment: name, offset: step.offset }, 'frame', `${step.reason}: the rest of the segment cannot be read`);
        break;
      }
      const loc: Loc = { seq, segment: name, offset: step.offset };
      if (header) {
        header = false;
        const h = parseHeader(step.payload);
        if (!step.crcOk || !h) problem(segLoc, 'segment', 'the segment header is damaged');
        else {
          firstSeq = h.first_seq;
          if (h.first_seq !== seq)
            problem(segLoc, 'segment', `the segment starts at seq ${h.first_seq}, expected ${seq}: a segment is missing or out of order`);
          if (Number(SEGMENT.exec(name)![1]) !== h.first_seq)
            problem(segLoc, 'segment', `the file name says seq ${Number(SEGMENT.exec(name)![1])}, its header ${h.first_seq}`);
        }
        continue;
      }
      const leaf = leafHash(step.payload);
      const hash = Buffer.from(leaf).toString('hex');
      const record = parseJsonObject(step.payload);
      if (!record)
        problem(loc, 'frame', step.crcOk ? 'the record is not a JSON object' : 'CRC-32C mismatch, and the record is no longer JSON');
      else {
        if (typeof record.id === 'string') loc.id = record.id;
        if (!step.crcOk) problem(loc, 'frame', 'CRC-32C mismatch: the record bytes changed after they were written');
        if (record.seq !== seq) {
          problem(loc, 'seq', `expected ${seq}, found ${String(record.seq)}`);
          if (Number.isSafeInteger(record.seq) && (record.seq as number) > seq) chains.gap(seq, record.seq as number);
        }
        for (const f of checkFields(record)) problem(loc, f.field, f.reason);
        chains.check(loc, chainOf(record), record.lamport_seq, record.prev_hash, hash);
        if (record.dev === true) report.dev++;
        if (inWindow(record.time, options)) report.inWindow++;
        if (record.type === 'policy_applied' && typeof record.policy_version === 'string') policies.add(record.policy_version);
        if (record.type === 'decision' && typeof record.policy_version === 'string' && !policies.has(record.policy_version))
          problem(loc, 'policy_version', 'no policy_applied record before this decision applied this policy version');
        if (record.type === 'checkpoint') checkCheckpoint(record, loc);
      }
      tree.append(leaf);
      seq++;
      history[seq % HISTORY] = tree.state();
      done += step.payload.length + 8;
      if (options.onProgress && (seq & 0x3fff) === 0) options.onProgress(done, total);
    }
    // The last segment is sealed only after a crash between sealing it and starting the next; the next open starts it.
    if (!last || existsSync(join(dir, manifestName(name)))) checkSealed(name, bytes, firstSeq, seq - firstSeq);
  }
  options.onProgress?.(total, total);

  function checkCheckpoint(record: Record<string, unknown>, loc: Loc): void {
    report.checkpoints.total++;
    checkpointSeqs.push(loc.seq);
    const opened = openCheckpoint(String(record.note), options.verifiers);
    if (!opened.ok) return problem(loc, 'note', `the checkpoint signature does not verify against a pinned key: ${opened.reason}`);
    const c = opened.checkpoint;
    if (c.size !== record.size) return problem(loc, 'size', `the record says ${String(record.size)}, the signed checkpoint ${c.size}`);
    if (c.size > seq) return problem(loc, 'size', `signs ${c.size} records but only ${seq} precede it`);
    report.checkpoints.origin ??= c.origin;
    if (c.origin !== report.checkpoints.origin)
      return problem(loc, 'note', `origin '${c.origin}' differs from the log's '${report.checkpoints.origin}'`);
    const state = history[c.size % HISTORY];
    if (seq - c.size >= HISTORY || !state || state.size !== c.size)
      return problem(loc, 'size', `signs a tree ${seq - c.size} records back, too far to check`);
    if (Buffer.compare(Buffer.from(rootOf(state)), Buffer.from(c.root)) !== 0)
      return problem(
        loc,
        'root',
        `the first ${c.size} records are not the ones signed (after the last matching checkpoint at ${report.checkpoints.lastSize}): a record was altered, inserted or removed`,
      );
    report.checkpoints.verified++;
    report.checkpoints.lastSize = c.size;
    for (const s of opened.verifiedBy) signers.add(s);
  }

  function checkSealed(name: string, bytes: Buffer, firstSeq: number, count: number): void {
    const at: Loc = { seq: firstSeq, segment: name, offset: 0 };
    report.sealed++;
    const problem = (at: Loc, field: string, reason: string): void =>
      void manifestProblems.push({ ...at, field, reason, end: firstSeq + count });
    const m = readManifest(dir, name);
    if (typeof m === 'string') return problem(at, 'manifest', m);
    if (m.sha256 !== sha256hex(bytes) || m.bytes !== bytes.length)
      return problem(at, 'manifest', 'the sealed segment no longer matches its manifest (sha256)');
    if (m.first_seq !== firstSeq || m.count !== count)
      return problem(
        at,
        'manifest',
        `the manifest lists ${m.count} records from seq ${m.first_seq}, the segment holds ${count} from ${firstSeq}`,
      );
    if (m.root !== Buffer.from(tree.root()).toString('hex'))
      return problem(at, 'manifest', 'the manifest Merkle root does not match the records');
    report.manifestsOk++;
  }

  const snap = readSnapshot(dir);
  if (snap && snap !== 'damaged' && snap.size > seq)
    problem(
      { seq, segment: segments[segments.length - 1]!, offset: 0 },
      'size',
      `the log held ${snap.size} records when last snapshotted and now holds ${seq}: records were removed from its end`,
    );

  for (const b of chains.finish()) problem(b.at, b.field, b.reason);
  report.records = seq;
  report.chains = chains.chains;
  report.policyVersions = policies.size;
  report.checkpoints.signers = [...signers];
  // Checkpoint records themselves need no signature.
  report.unsigned = seq - report.checkpoints.lastSize - checkpointSeqs.filter((s) => s >= report.checkpoints.lastSize).length;
  const ranked = problems.map((p) => ({ p, rank: 0 }));
  for (const { end, ...m } of manifestProblems) {
    const cause = problems.reduce<number | undefined>(
      (min, p) => (p.seq >= m.seq && p.seq < end && (min === undefined || p.seq < min) ? p.seq : min),
      undefined,
    );
    ranked.push({ p: { ...m, seq: cause ?? m.seq }, rank: 1 });
  }
  ranked.sort((a, b) => a.p.seq - b.p.seq || a.rank - b.rank || a.p.offset - b.p.offset);
  problems.splice(0, problems.length, ...ranked.map((r) => r.p));
  report.problemCount = problems.length;
  report.problems = problems.slice(0, MAX_PROBLEMS);
  report.ok = problems.length === 0;
  return report;
}

/** Is a record's `time` within [from, to] (epoch ms, either open)? A record without a readable time is in no window. */
export function inWindow(time: unknown, window: { from?: number | undefined; to?: number | undefined }): boolean {
  if (window.from === undefined && window.to === undefined) return true;
  const t = typeof time === 'string' ? Date.parse(time) : NaN;
  return !Number.isNaN(t) && (window.from === undefined || t >= window.from) && (window.to === undefined || t <= window.to);
}

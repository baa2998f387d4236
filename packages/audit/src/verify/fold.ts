/**
 * The in-order half of verification: what needs the records before it — positions, per-chain
 * links, the Merkle tree, policy continuity, checkpoints, segment manifests. Scans of runs of
 * frames (`scan.ts`) are folded here strictly in log order, whether they were made inline or on
 * worker threads, so both give the same report.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../checkpoint.js';
import { dataEnd, frameEnd, walkFrames } from '../frames.js';
import { MerkleFrontier, rootOf, type TreeState } from '../merkle.js';
import { manifestName, SEGMENT } from '../log/files.js';
import { parseHeader, readManifest, sha256hex } from '../log/manifest.js';
import { readSnapshot } from '../log/snapshot.js';
import { joinBounds } from '../log/time-bound.js';
import { ChainChecker, type Loc } from './chains.js';
import { ApprovalLedger } from './approvals.js';
import { Kind, type RecordScan, type RunSummary } from './scan.js';
import type { Problem, VerifyOptions, VerifyReport } from './verify.js';

/** How far back a checkpoint may sign: the verifier keeps this many past tree states. */
const HISTORY = 1 << 16;
const MAX_PROBLEMS = 1000;

export class LogFold {
  private readonly report: VerifyReport;
  private readonly problems: Problem[] = [];
  /** A manifest mismatch is a consequence of a record problem in its segment, when there is one: reported there, after it. */
  private readonly manifestProblems: (Problem & { end: number })[] = [];
  private readonly chains = new ChainChecker();
  private readonly tree = new MerkleFrontier();
  private readonly history: TreeState[] = new Array<TreeState>(HISTORY);
  private readonly policies = new Set<string>();
  private readonly approvals = new ApprovalLedger();
  private readonly signers = new Set<string>();
  private readonly checkpointSeqs: number[] = [];
  private seq = 0;
  private done = 0;
  private segment = '';
  private last = false;
  private firstSeq = 0;
  /** The latest record time of the segment so far, as its manifest's `max_time` must state it. */
  private maxTime: string | null = '';

  constructor(
    private readonly dir: string,
    private readonly segments: readonly string[],
    private readonly total: number,
    private readonly options: VerifyOptions,
  ) {
    this.report = {
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
    this.history[0] = this.tree.state();
  }

  private problem(at: Loc, field: string, reason: string): void {
    this.problems.push({ ...at, field, reason });
  }

  /**
   * Start segment `index` (its whole bytes) by checking its header: where its records start, or
   * undefined when it holds none (nothing, or an end met before any record).
   */
  beginSegment(index: number, bytes: Buffer): number | undefined {
    const name = this.segments[index]!;
    this.segment = name;
    this.last = index === this.segments.length - 1;
    this.firstSeq = this.seq;
    this.maxTime = '';
    const step = walkFrames(bytes).next();
    const at: Loc = { seq: this.seq, segment: name, offset: 0 };
    // Every segment is created whole, header first: one without it (empty, zeros, a partial header)
    // lost its records, and the log would refuse to open with it.
    if (step.done || step.value.kind === 'torn') {
      this.problem(at, 'segment', 'the segment has no header: it is empty, zeros or cut short');
      return undefined;
    }
    if (step.value.kind !== 'frame') {
      this.ended(step.value, bytes);
      return undefined;
    }
    const h = parseHeader(step.value.payload);
    if (!step.value.crcOk || !h) this.problem(at, 'segment', 'the segment header is damaged');
    else {
      this.firstSeq = h.first_seq;
      if (h.first_seq !== this.seq)
        this.problem(at, 'segment', `the segment starts at seq ${h.first_seq}, expected ${this.seq}: a segment is missing or out of order`);
      const named = Number(SEGMENT.exec(name)![1]);
      if (named !== h.first_seq) this.problem(at, 'segment', `the file name says seq ${named}, its header ${h.first_seq}`);
    }
    return frameEnd(step.value);
  }

  /** Fold the scan of the segment's next run of frames. */
  fold(scan: RecordScan, bytes: Buffer): void {
    const { chains, tree, history, segment } = this;
    let fields = 0;
    let approvals = 0;
    for (let i = 0; i < scan.count; i++) {
      const seq = this.seq;
      const loc: Loc = { seq, segment, offset: scan.offsets[i]! };
      const kind = scan.kinds[i]!;
      if (kind === Kind.Unreadable)
        this.problem(
          loc,
          'frame',
          scan.crcOk[i] ? 'the record is not a JSON object' : 'CRC-32C mismatch, and the record is no longer JSON',
        );
      else {
        const id = scan.ids[i];
        if (id !== undefined) loc.id = id;
        if (!scan.crcOk[i]) this.problem(loc, 'frame', 'CRC-32C mismatch: the record bytes changed after they were written');
        const found = scan.seqs[i];
        if (found !== seq) {
          this.problem(loc, 'seq', `expected ${seq}, found ${String(found)}`);
          if (Number.isSafeInteger(found) && (found as number) > seq) chains.gap(seq, found as number);
        }
        if (scan.fieldProblems[fields]?.index === i)
          for (const f of scan.fieldProblems[fields++]!.problems) this.problem(loc, f.field, f.reason);
        chains.check(loc, scan.chains[i]!, scan.lamports[i], scan.prevs[i], scan.leafHex[i]!);
        if (kind === Kind.AppliesPolicy) this.policies.add(scan.policies[i]!);
        else if (kind === Kind.Decision && !this.policies.has(scan.policies[i]!))
          this.problem(loc, 'policy_version', 'no policy_applied record before this decision applied this policy version');
        else if (kind === Kind.Checkpoint)
          this.checkpoint(
            scan.checkpoints.find((c) => c.index === i)!,
            loc,
          );
        const event = scan.approvals[approvals]?.index === i ? scan.approvals[approvals++] : undefined;
        const wrong = event && this.approvals.take(event);
        if (wrong) this.problem(loc, 'approval', wrong);
      }
      tree.append(scan.leaves.subarray(i * 32, i * 32 + 32));
      this.seq++;
      history[this.seq % HISTORY] = tree.state();
    }
    this.finishRun(scan, bytes);
  }

  /**
   * Fold a clean run from its summary, when it joins what precedes it cleanly too; false (nothing
   * folded) when it does not, and the run needs the full fold to say what is wrong.
   */
  foldSummary(run: RunSummary, bytes: Buffer): boolean {
    const { chains, tree, history, segment, policies } = this;
    if (run.count > 0) {
      if (run.firstSeq !== this.seq || !chains.settled) return false;
      for (const c of run.chains) if (!chains.links(c.chain, c.firstLamport, c.firstPrev)) return false;
      const appliedAt = new Map(run.applied);
      for (const [version, at] of run.decided) if (!policies.has(version) && !((appliedAt.get(version) ?? Infinity) < at)) return false;
      if (!this.approvals.accepts(run.approvals)) return false;
    }
    const base = this.seq;
    const locOf = (t: { index: number; offset: number; id: string | undefined }): Loc => {
      const loc: Loc = { seq: base + t.index, segment, offset: t.offset };
      if (t.id !== undefined) loc.id = t.id;
      return loc;
    };
    for (const c of run.chains) chains.advance(c.chain, locOf(c.last), c.last.hash, c.last.lamport);
    for (const [version] of run.applied) policies.add(version);
    for (const event of run.approvals) this.approvals.take(event);
    let next = 0;
    for (let i = 0; i < run.count; i++) {
      const c = run.checkpoints[next];
      if (c?.index === i) {
        next++;
        this.checkpoint(c, locOf(c));
      }
      tree.append(run.leaves.subarray(i * 32, i * 32 + 32));
      this.seq++;
      history[this.seq % HISTORY] = tree.state();
    }
    this.finishRun(run, bytes);
    return true;
  }

  private finishRun(run: Pick<RecordScan, 'dev' | 'inWindow' | 'maxTime' | 'bytes' | 'end'>, bytes: Buffer): void {
    this.report.dev += run.dev;
    this.maxTime = joinBounds(this.maxTime, run.maxTime);
    this.report.inWindow += run.inWindow;
    this.done += run.bytes;
    if (run.end) this.ended(run.end, bytes);
    this.options.onProgress?.(this.done, this.total);
  }

  /** A torn or impossible frame ends the segment's records. */
  private ended(end: NonNullable<RecordScan['end']>, bytes: Buffer): void {
    const at: Loc = { seq: this.seq, segment: this.segment, offset: end.offset };
    if (end.kind === 'impossible') this.problem(at, 'frame', `${end.reason}: the rest of the segment cannot be read`);
    else if (this.last) this.report.pendingTail = { segment: this.segment, offset: end.offset, bytes: dataEnd(bytes) - end.offset };
    else this.problem(at, 'frame', 'a sealed segment ends in a partial frame');
  }

  /** Finish the segment: a sealed one must match its manifest. */
  endSegment(bytes: Buffer): void {
    // The last segment is sealed only after a crash between sealing it and starting the next; the next open starts it.
    if (!this.last || existsSync(join(this.dir, manifestName(this.segment)))) this.checkSealed(bytes);
  }

  private checkpoint(c: { note: unknown; size: unknown }, loc: Loc): void {
    const { report, seq } = this;
    report.checkpoints.total++;
    this.checkpointSeqs.push(loc.seq);
    const opened = openCheckpoint(String(c.note), this.options.verifiers);
    if (!opened.ok) return this.problem(loc, 'note', `the checkpoint signature does not verify against a pinned key: ${opened.reason}`);
    const signed = opened.checkpoint;
    if (signed.size !== c.size) return this.problem(loc, 'size', `the record says ${String(c.size)}, the signed checkpoint ${signed.size}`);
    if (signed.size > seq) return this.problem(loc, 'size', `signs ${signed.size} records but only ${seq} precede it`);
    report.checkpoints.origin ??= signed.origin;
    if (signed.origin !== report.checkpoints.origin)
      return this.problem(loc, 'note', `origin '${signed.origin}' differs from the log's '${report.checkpoints.origin}'`);
    const state = this.history[signed.size % HISTORY];
    if (seq - signed.size >= HISTORY || !state || state.size !== signed.size)
      return this.problem(loc, 'size', `signs a tree ${seq - signed.size} records back, too far to check`);
    if (Buffer.compare(Buffer.from(rootOf(state)), Buffer.from(signed.root)) !== 0)
      return this.problem(
        loc,
        'root',
        `the first ${signed.size} records are not the ones signed (after the last matching checkpoint at ${report.checkpoints.lastSize}): a record was altered, inserted or removed`,
      );
    report.checkpoints.verified++;
    report.checkpoints.lastSize = signed.size;
    for (const s of opened.verifiedBy) this.signers.add(s);
  }

  private checkSealed(bytes: Buffer): void {
    const { firstSeq, segment } = this;
    const count = this.seq - firstSeq;
    const at: Loc = { seq: firstSeq, segment, offset: 0 };
    this.report.sealed++;
    const problem = (field: string, reason: string): void =>
      void this.manifestProblems.push({ ...at, field, reason, end: firstSeq + count });
    const m = readManifest(this.dir, segment);
    if (typeof m === 'string') return problem('manifest', m);
    if (m.sha256 !== sha256hex(bytes) || m.bytes !== bytes.length)
      return problem('manifest', 'the sealed segment no longer matches its manifest (sha256)');
    if (m.first_seq !== firstSeq || m.count !== count)
      return problem(
        'manifest',
        `the manifest lists ${m.count} records from seq ${m.first_seq}, the segment holds ${count} from ${firstSeq}`,
      );
    if (m.root !== Buffer.from(this.tree.root()).toString('hex'))
      return problem('manifest', 'the manifest Merkle root does not match the records');
    // Readers of a recent window skip the segment by this bound: a wrong one would hide records from them.
    if (m.max_time !== undefined && m.max_time !== this.maxTime)
      return problem(
        'max_time',
        `the manifest says the latest record is at ${m.max_time}, the records say ${this.maxTime || 'none is readable'}`,
      );
    this.report.manifestsOk++;
  }

  /** The report, once every segment has been folded. */
  finish(): VerifyReport {
    const { report, problems, seq } = this;
    this.options.onProgress?.(this.total, this.total);
    const snap = readSnapshot(this.dir);
    if (snap && snap !== 'damaged' && snap.size > seq)
      this.problem(
        { seq, segment: this.segments[this.segments.length - 1]!, offset: 0 },
        'size',
        `the log held ${snap.size} records when last snapshotted and now holds ${seq}: records were removed from its end`,
      );
    for (const b of this.chains.finish()) this.problem(b.at, b.field, b.reason);
    report.records = seq;
    report.chains = this.chains.chains;
    report.policyVersions = this.policies.size;
    report.checkpoints.signers = [...this.signers];
    // Checkpoint records themselves need no signature.
    const lastSize = report.checkpoints.lastSize;
    report.unsigned = seq - lastSize - this.checkpointSeqs.filter((s) => s >= lastSize).length;
    const ranked = problems.map((p) => ({ p, rank: 0 }));
    for (const { end, ...m } of this.manifestProblems) {
      const cause = problems.reduce<number | undefined>(
        (min, p) => (p.seq >= m.seq && p.seq < end && (min === undefined || p.seq < min) ? p.seq : min),
        undefined,
      );
      ranked.push({ p: { ...m, seq: cause ?? m.seq }, rank: 1 });
    }
    ranked.sort((a, b) => a.p.seq - b.p.seq || a.rank - b.rank || a.p.offset - b.p.offset);
    report.problemCount = ranked.length;
    report.problems = ranked.slice(0, MAX_PROBLEMS).map((r) => r.p);
    report.ok = ranked.length === 0;
    return report;
  }
}

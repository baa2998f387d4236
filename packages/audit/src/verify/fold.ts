/**
 * The in-order half of verification: what needs the records before it — positions, per-chain
 * links, the Merkle tree, policy continuity, checkpoints, segment manifests. Scans of runs of
 * frames (`scan.ts`) are folded here strictly in log order, whether they were made inline or on
 * worker threads, so both give the same report.
 */
import { openCheckpoint } from '../checkpoint.js';
import { dataEnd, frameEnd, walkFrames } from '../frames.js';
import { MerkleFrontier, rootOf, TREE_HISTORY as HISTORY, type TreeState } from '../merkle.js';
import { canonicalJson } from '@faramesh/protocol';
import { BASE_FILE, readBaseLeaves, type LogBase } from '../log/base.js';
import { LogCorruptError } from '../log/errors.js';
import { parseHeader, sha256hex, type SegmentManifest } from '../log/manifest.js';
import type { SegmentDigest } from './pieces.js';
import { joinBounds } from '../log/time-bound.js';
import { ChainChecker, type Loc } from './chains.js';
import { ApprovalLedger } from './approvals.js';
import { Kind, type CheckpointEntry, type RecordScan, type RunSummary } from './scan.js';
import { encodeVerifierKey } from '../keys.js';
import { sourceManifest, type LogSources, type SegmentSource } from './sources.js';
import type { Problem, VerifyOptions, VerifyReport } from './verify.js';

const MAX_PROBLEMS = 1000;

/** Bytes of a segment from `base` on: the piece a run was scanned from. */
export interface SegmentBytes {
  bytes: Buffer;
  base: number;
}

export class LogFold {
  private readonly report: VerifyReport;
  private readonly problems: Problem[] = [];
  /** A manifest mismatch is a consequence of a record problem in its segment, when there is one: reported there, after it. */
  private readonly manifestProblems: (Problem & { end: number })[] = [];
  private readonly chains = new ChainChecker();
  private tree = new MerkleFrontier();
  private readonly history: TreeState[] = new Array<TreeState>(HISTORY);
  private readonly policies = new Set<string>();
  private readonly approvals = new ApprovalLedger();
  private readonly signers = new Set<string>();
  private readonly checkpointSeqs: number[] = [];
  /** The key the last `key_rotated` record (or the base) names: the one key that may sign checkpoints now. */
  private keyInForce: string | undefined;
  /** `log_compacted` records: the base each one names. */
  private readonly compactions: { size: unknown; base: unknown }[] = [];
  private readonly segments: readonly SegmentSource[];
  private readonly total: number;
  private readonly base?: { base: LogBase; text: string };
  private readonly snapshotSize?: number;
  private seq = 0;
  private done = 0;
  private segment = '';
  private last = false;
  /** The segment being folded, by its index in `segments`. */
  private index = 0;
  private firstSeq = 0;
  /** The latest record time of the segment so far, as its manifest's `max_time` must state it. */
  private maxTime: string | null = '';

  constructor(
    private readonly dir: string,
    log: LogSources,
    private readonly options: VerifyOptions,
  ) {
    const segments = (this.segments = log.sources);
    this.total = log.total;
    if (log.base) this.base = log.base;
    if (log.snapshotSize !== undefined) this.snapshotSize = log.snapshotSize;
    this.report = {
      dir,
      ok: false,
      records: 0,
      inWindow: 0,
      segments: segments.length,
      sealed: 0,
      manifestsOk: 0,
      chains: 0,
      checkpoints: { total: 0, verified: 0, lastSize: 0, signers: [], keys: [] },
      unsigned: 0,
      policyVersions: 0,
      dev: 0,
      snapshot: log.snapshot,
      problems: [],
      problemCount: 0,
    };
    this.history[0] = this.tree.state();
    this.problems.push(...log.problems);
    if (log.base) {
      const { base } = log.base;
      this.report.compacted = {
        records: base.size,
        segments: base.segments.length,
        archives: base.archives.length,
        included: log.archivedIncluded,
      };
      // Without the archives, the live log goes on from the base.
      if (!log.archivedIncluded) this.fromBase(base);
    }
  }

  /**
   * Start where the base ends: the tree rebuilt from the compacted records' leaf hashes (each
   * compacted segment's root and the base's edge checked against it), the chains, policies and
   * approvals as the base states them. Its own truth comes from the log: the `log_compacted` record
   * naming its hash, which the checkpoints after it sign (see `finish`).
   */
  private fromBase(base: LogBase): void {
    const at: Loc = { seq: base.size, segment: BASE_FILE, offset: 0 };
    let leaves: Buffer;
    try {
      leaves = readBaseLeaves(this.dir, base);
    } catch (e) {
      this.problem(at, 'leaves', e instanceof LogCorruptError ? `${e.segment}: ${e.reason}` : (e as Error).message);
      leaves = Buffer.alloc(0);
    }
    this.growFromLeaves(leaves, base, at);
    const tip: Loc = { seq: base.size - 1, segment: BASE_FILE, offset: 0 };
    for (const [chain, [hash, lamport]] of Object.entries(base.tips)) this.chains.advance(chain, tip, hash, lamport);
    for (const version of base.policies) this.policies.add(version);
    this.approvals.seed(base.approvals);
    this.report.checkpoints.lastSize = base.checkpoint_size ?? 0;
    if (base.key !== undefined) this.keyInForce = base.key;
  }

  /** Grow the tree over the compacted leaves (when they check out), checking each manifest root on the way. */
  private growFromLeaves(leaves: Buffer, base: LogBase, at: Loc): void {
    const { tree, history } = this;
    if (leaves.length === base.size * 32) {
      let next = 0;
      for (let i = 0; i < base.size; i++) {
        tree.append(leaves.subarray(i * 32, i * 32 + 32));
        history[tree.size % HISTORY] = tree.state();
        const m = base.segments[next];
        if (m && tree.size === m.first_seq + m.count) {
          next++;
          if (m.root !== Buffer.from(tree.root()).toString('hex'))
            this.problem({ ...at, seq: m.first_seq }, 'leaves', `the compacted leaf hashes do not give ${m.segment}'s manifest root`);
        }
      }
    }
    if (canonicalJson(tree.toJSON()) !== canonicalJson(base.edge)) {
      if (leaves.length === base.size * 32) this.problem(at, 'edge', "the base's Merkle edge is not the one its leaf hashes give");
      // Go on from the edge the base states: later checkpoints then show whether it is right.
      this.tree = MerkleFrontier.fromJSON(base.edge);
      this.history[this.tree.size % HISTORY] = this.tree.state();
    }
    this.seq = base.size;
  }

  /**
   * Having read the archived records, the live log must go on from exactly what the base states:
   * the tree, each chain's tip, the policies applied.
   */
  private checkBase(base: LogBase): void {
    const at: Loc = { seq: this.seq, segment: BASE_FILE, offset: 0 };
    if (this.seq !== base.size) return this.problem(at, 'size', `the archives hold ${this.seq} records, the base says ${base.size}`);
    if (canonicalJson(this.tree.toJSON()) !== canonicalJson(base.edge))
      this.problem(at, 'edge', 'the base is not the tree the archived records make');
    for (const [chain, [hash, lamport]] of Object.entries(base.tips))
      if (!this.chains.links(chain, lamport + 1, hash))
        this.problem(at, 'tips', `the base's tip of chain '${chain}' is not the archived records' last`);
    if (this.chains.chains !== Object.keys(base.tips).length)
      this.problem(at, 'tips', 'the base does not list every chain of the archived records');
    const policies = [...this.policies].sort();
    if (canonicalJson(this.approvals.entries()) !== canonicalJson(base.approvals))
      this.problem(at, 'approvals', 'the base does not list the approvals the archived records granted and spent');
    if (canonicalJson(policies) !== canonicalJson([...base.policies].sort()))
      this.problem(at, 'policies', 'the base does not list the policy versions the archived records applied');
    let leaves: Buffer | undefined;
    try {
      leaves = readBaseLeaves(this.dir, base);
    } catch (e) {
      this.problem(at, 'leaves', e instanceof LogCorruptError ? `${e.segment}: ${e.reason}` : (e as Error).message);
    }
    if (leaves) {
      const check = new MerkleFrontier();
      for (let i = 0; i < base.size; i++) check.append(leaves.subarray(i * 32, i * 32 + 32));
      if (canonicalJson(check.toJSON()) !== canonicalJson(base.edge))
        this.problem(at, 'leaves', 'the leaf hashes file is not the archived records');
    }
  }

  private problem(at: Loc, field: string, reason: string): void {
    this.problems.push({ ...at, field, reason });
  }

  /**
   * Start segment `index` by checking its header, in `bytes` (the segment's first piece): where its
   * records start, or undefined when it holds none (nothing, or an end met before any record).
   */
  beginSegment(index: number, bytes: Buffer): number | undefined {
    const src = this.segments[index]!;
    const name = src.name;
    if (this.base && !src.archived && index > 0 && this.segments[index - 1]!.archived) this.checkBase(this.base.base);
    this.segment = name;
    this.index = index;
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
      this.ended(step.value, { bytes, base: 0 });
      return undefined;
    }
    const h = parseHeader(step.value.payload);
    if (!step.value.crcOk || !h) this.problem(at, 'segment', 'the segment header is damaged');
    else {
      this.firstSeq = h.first_seq;
      if (h.first_seq !== this.seq)
        this.problem(at, 'segment', `the segment starts at seq ${h.first_seq}, expected ${this.seq}: a segment is missing or out of order`);
      const named = src.firstSeq;
      if (named !== h.first_seq) this.problem(at, 'segment', `the file name says seq ${named}, its header ${h.first_seq}`);
    }
    return frameEnd(step.value);
  }

  /** Fold the scan of the segment's next run of frames, from `piece`. */
  fold(scan: RecordScan, piece: SegmentBytes): void {
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
        else if (kind === Kind.Compacted) this.compactions.push(scan.compactions.find((c) => c.index === i)!);
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
    this.finishRun(scan, piece);
  }

  /**
   * Fold a clean run from its summary, when it joins what precedes it cleanly too; false (nothing
   * folded) when it does not, and the run needs the full fold to say what is wrong.
   */
  foldSummary(run: RunSummary, piece: SegmentBytes): boolean {
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
    this.compactions.push(...run.compactions);
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
    this.finishRun(run, piece);
    return true;
  }

  private finishRun(run: Pick<RecordScan, 'dev' | 'inWindow' | 'maxTime' | 'bytes' | 'end'>, piece: SegmentBytes): void {
    this.report.dev += run.dev;
    this.maxTime = joinBounds(this.maxTime, run.maxTime);
    this.report.inWindow += run.inWindow;
    this.done += run.bytes;
    if (run.end) this.ended(run.end, piece);
    this.options.onProgress?.(this.done, this.total);
  }

  /** A torn or impossible frame ends the segment's records (met in the piece that holds the rest of the segment). */
  private ended(end: NonNullable<RecordScan['end']>, piece: SegmentBytes): void {
    const at: Loc = { seq: this.seq, segment: this.segment, offset: end.offset };
    if (end.kind === 'impossible') this.problem(at, 'frame', `${end.reason}: the rest of the segment cannot be read`);
    else if (this.last)
      this.report.pendingTail = { segment: this.segment, offset: end.offset, bytes: piece.base + dataEnd(piece.bytes) - end.offset };
    else this.problem(at, 'frame', 'a sealed segment ends in a partial frame');
  }

  /** Finish the segment, given what it hashes to (`SegmentPieces`): a sealed one must match its manifest. */
  endSegment(digest: SegmentDigest): void {
    // The last segment is sealed only after a crash between sealing it and starting the next; the next open starts it.
    const m = sourceManifest(this.dir, this.segments[this.index]!, this.last, this.base?.base);
    if (m !== undefined) this.checkSealed(digest, m);
  }

  private checkpoint(c: CheckpointEntry, loc: Loc): void {
    const { report, seq } = this;
    // A key rotation: from here on, only the key it names signs. A checkpoint by a key the log has
    // moved away from (the stack key left on the host after a move to a KMS) is not evidence.
    if ('rotatedTo' in c) {
      this.keyInForce = String(c.rotatedTo);
      report.checkpoints.keys.push({ from_seq: loc.seq, key: this.keyInForce });
      return;
    }
    report.checkpoints.total++;
    this.checkpointSeqs.push(loc.seq);
    if (this.keyInForce !== undefined && c.key !== this.keyInForce)
      return this.problem(
        loc,
        'key',
        `the checkpoint names key ${String(c.key)}, but the key in force since the last key_rotated is ${this.keyInForce}`,
      );
    const inForce = this.keyInForce;
    const verifiers =
      inForce === undefined ? this.options.verifiers : this.options.verifiers.filter((v) => encodeVerifierKey(v) === inForce);
    const opened = openCheckpoint(String(c.note), verifiers);
    if (!opened.ok && verifiers !== this.options.verifiers && openCheckpoint(String(c.note), this.options.verifiers).ok)
      return this.problem(
        loc,
        'note',
        `the checkpoint is signed by a pinned key, but not by ${String(inForce)}, the key in force since the last key_rotated`,
      );
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

  private checkSealed(digest: SegmentDigest, m: SegmentManifest | string): void {
    const { firstSeq, segment } = this;
    const count = this.seq - firstSeq;
    const at: Loc = { seq: firstSeq, segment, offset: 0 };
    this.report.sealed++;
    const problem = (field: string, reason: string): void =>
      void this.manifestProblems.push({ ...at, field, reason, end: firstSeq + count });
    if (typeof m === 'string') return problem('manifest', m);
    if (m.sha256 !== digest.sha256 || m.bytes !== digest.length)
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

  /** The base must be the one a `log_compacted` record named: the checkpoints after that record sign it. */
  private checkCompaction(): void {
    if (!this.base) return;
    const { base, text } = this.base;
    const sha = sha256hex(text);
    if (!this.compactions.some((c) => c.size === base.size && c.base === sha))
      this.problem(
        { seq: base.size, segment: BASE_FILE, offset: 0 },
        'base',
        `no log_compacted record names this base (sha256 ${sha}): it was replaced or altered after the compaction`,
      );
  }

  /** The report, once every segment has been folded. */
  finish(): VerifyReport {
    const { report, problems, seq } = this;
    this.options.onProgress?.(this.total, this.total);
    // The snapshot as it was before the log was read (a running daemon writes newer ones meanwhile).
    const snapped = this.snapshotSize;
    if (snapped !== undefined && snapped > seq)
      this.problem(
        { seq, segment: this.segments[this.segments.length - 1]?.name ?? BASE_FILE, offset: 0 },
        'size',
        `the log held ${snapped} records when last snapshotted and now holds ${seq}: records were removed from its end`,
      );
    for (const b of this.chains.finish()) this.problem(b.at, b.field, b.reason);
    this.checkCompaction();
    report.records = seq;
    report.chains = this.chains.chains;
    report.policyVersions = this.policies.size;
    report.checkpoints.signers = [...this.signers];
    // Checkpoint records themselves need no signature.
    const lastSize = report.checkpoints.lastSize;
    const after = new Set(this.checkpointSeqs.filter((s) => s >= lastSize));
    report.unsigned = seq - lastSize - after.size;
    // Which records those are: what an operator must know is attested by the hash chain alone.
    if (report.unsigned > 0) {
      let from = lastSize;
      let to = seq - 1;
      while (after.has(from)) from++;
      while (after.has(to)) to--;
      report.unsignedRange = { from, to };
    }
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

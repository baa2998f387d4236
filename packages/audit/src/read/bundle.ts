/**
 * Evidence bundles (`audit export --include-public-keys`, `audit verify-bundle`): a run of records
 * with what an auditor needs to check them offline, without the log and without the KMS — the
 * checkpoint signed over the log, a range proof that the records are the run of leaves it signed
 * at their positions, and the public keys that verify it. The run reaches one record past each end
 * of the window, so the verifier can also show that no record of the window was left out. The
 * verifier recomputes every leaf, the root and the signature, checks each record's fields, and the
 * chain links inside the run.
 */
import { canonicalJson } from '@faramesh/protocol';
import { openCheckpoint } from '../checkpoint.js';
import { encodeVerifierKey, parseVerifierKey } from '../keys.js';
import { leafHash, rangeProof, rootFromRange } from '../merkle.js';
import type { Verifier } from '../note.js';
import type { LogPosition } from '../log/audit-log.js';
import { readBase } from '../log/base.js';
import { chainOf } from '../log/sequencer.js';
import { inWindow, type TimeWindow } from '../verify/window.js';
import { checkFields } from '../verify/fields.js';
import { ChainChecker, type Loc } from '../verify/chains.js';
import { LogFollower, type StoredRecord } from './follower.js';
import { loadProvable } from './proofs.js';

export const BUNDLE_FORMAT = 'faramesh-audit-bundle/1';

export interface EvidenceBundle {
  format: typeof BUNDLE_FORMAT;
  exported_at: string;
  /** The window (RFC 3339, inclusive; null: open). Records of the run outside it are its edges. */
  window: { from: string | null; to: string | null };
  first_seq: number;
  /** The signed checkpoint (a C2SP signed note) the records are proven against. */
  checkpoint: string;
  tree_size: number;
  /** The verifier keys whose signatures on the checkpoint verify (`name+id+key`): compare their ids with the ones the operator published. */
  keys: string[];
  /** Range proof (hex), leaves [first_seq, first_seq + records.length) of the checkpoint's tree. */
  proof: string[];
  /** Each record's stored canonical JSON, as hashed into the log. */
  records: string[];
}

export interface BundleExport {
  bundle: EvidenceBundle;
  /** Records of the window after the latest checkpoint: not provable yet, so not in the bundle. */
  unsigned: number;
  /**
   * The window reaches back into the records a compaction archived (seq below this): a bundle holds
   * the live log, so those of the window are not in it.
   */
  compactedBefore?: number;
}

const hex = (h: Uint8Array) => Buffer.from(h).toString('hex');
const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * The bundle for the records in `window` (epoch ms bounds), against the latest checkpoint a pinned
 * key signed: the run from the record before the window's first to the record after its last
 * (where the checkpoint covers them). Two passes: the leaves and the window's positions, then the
 * run itself read again, so only the run is ever held.
 */
export function exportBundle(dir: string, verifiers: readonly Verifier[], window: TimeWindow): BundleExport {
  const matches: number[] = [];
  /** Checkpoints' own records in the window: each follows the tree it signs, so none is ever "left out". */
  const checkpoints = new Set<number>();
  let previous: LogPosition | undefined;
  let start: LogPosition | undefined;
  const { leaves, latest } = loadProvable(dir, verifiers, (r) => {
    if (inWindow(r.record.time, window)) {
      matches.push(r.seq);
      start ??= previous ?? { seq: r.seq, segment: r.segment, offset: r.offset };
      if (r.record.type === 'checkpoint') checkpoints.add(r.seq);
    }
    previous = { seq: r.seq, segment: r.segment, offset: r.offset };
  });
  if (!latest) throw new Error('the log has no checkpoint signed by a pinned key yet: nothing can be proven');
  const size = latest.checkpoint.size;
  const covered = matches.filter((seq) => seq < size);
  if (covered.length === 0)
    throw new Error(
      matches.length > 0
        ? `the window's ${matches.length} records are all after the latest checkpoint (tree size ${size}): export again after the next one`
        : 'no records in the window',
    );
  const a = start!.seq;
  const b = Math.min(size, covered.at(-1)! + 2);
  const run: StoredRecord[] = [];
  const reader = new LogFollower(dir, start);
  for (
    let page = reader.poll(Math.min(10_000, b - a));
    run.length < b - a && page.length > 0;
    page = reader.poll(Math.min(10_000, b - a - run.length))
  )
    run.push(...page);
  if (run.length !== b - a || run.some((r, i) => hex(leafHash(r.payload)) !== hex(leaves[a + i]!)))
    throw new Error('the log changed while it was being exported: run faramesh audit verify');
  const opened = openCheckpoint(latest.note, verifiers);
  // The run starts at the live log's first record, in the window: the window may go on into the archives.
  const base = readBase(dir)?.base;
  const intoArchives =
    base !== undefined &&
    base.size > 0 &&
    a === base.size &&
    matches[0] === base.size &&
    (window.from === undefined || base.segments.some((m) => m.max_time === undefined || Date.parse(m.max_time) >= window.from!));
  return {
    bundle: {
      format: BUNDLE_FORMAT,
      exported_at: new Date().toISOString(),
      window: { from: iso(window.from), to: iso(window.to) },
      first_seq: a,
      checkpoint: latest.note,
      tree_size: size,
      keys: (opened.ok ? opened.signers : []).map(encodeVerifierKey),
      proof: rangeProof(leaves, a, b, size).map(hex),
      records: run.map((r) => r.payload.toString('utf8')),
    },
    unsigned: matches.filter((seq) => seq >= size && !checkpoints.has(seq)).length,
    ...(intoArchives ? { compactedBefore: base.size } : {}),
  };
}

export interface BundleProblem {
  /** The record's seq, when the problem is one record's. */
  seq?: number;
  field: string;
  reason: string;
}

export interface BundleReport {
  ok: boolean;
  records: number;
  first_seq: number | null;
  tree_size: number | null;
  origin: string | null;
  checkpoint_time: string | null;
  /** The keys whose signatures on the checkpoint verified, and whether they were pinned by the caller or taken from the bundle. */
  signed_by: string[];
  keys_from: 'pinned' | 'bundle';
  chains: number;
  /** The window the bundle claims, how many of its records fall in it, and whether a record of the window could be missing at either end. */
  window: { from: string | null; to: string | null; records: number; complete: { start: boolean; end: boolean } } | null;
  problems: BundleProblem[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const bound = (v: unknown): v is string | null => v === null || (typeof v === 'string' && RFC3339.test(v) && !Number.isNaN(Date.parse(v)));

/** Check a parsed bundle; `pinned`: keys the auditor trusts (else the bundle's own, reported as such). */
export function verifyBundle(data: unknown, pinned?: readonly Verifier[]): BundleReport {
  const report: BundleReport = {
    ok: false,
    records: 0,
    first_seq: null,
    tree_size: null,
    origin: null,
    checkpoint_time: null,
    signed_by: [],
    keys_from: pinned ? 'pinned' : 'bundle',
    chains: 0,
    window: null,
    problems: [],
  };
  const fail = (field: string, reason: string, seq?: number) => {
    report.problems.push({ ...(seq !== undefined ? { seq } : {}), field, reason });
    return report;
  };
  const b = data as Partial<EvidenceBundle> | null;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return fail('bundle', 'is not a JSON object');
  if (b.format !== BUNDLE_FORMAT) return fail('format', `must be ${BUNDLE_FORMAT}`);
  if (!Number.isSafeInteger(b.first_seq) || b.first_seq! < 0) return fail('first_seq', 'must be a non-negative integer');
  if (!Number.isSafeInteger(b.tree_size) || b.tree_size! < 1) return fail('tree_size', 'must be a positive integer');
  if (typeof b.checkpoint !== 'string') return fail('checkpoint', 'must be a signed note');
  if (!isStrings(b.keys)) return fail('keys', 'must be a list of verifier keys');
  if (!isStrings(b.proof) || !b.proof.every((h) => HEX64.test(h))) return fail('proof', 'must be a list of SHA-256 hashes (hex)');
  if (!isStrings(b.records) || b.records.length === 0) return fail('records', 'must be a non-empty list of records');
  const w = b.window as { from?: unknown; to?: unknown } | undefined;
  if (w === null || typeof w !== 'object' || !bound(w.from) || !bound(w.to))
    return fail('window', 'must be { from, to }, each an RFC 3339 UTC time or null');
  report.first_seq = b.first_seq!;
  report.tree_size = b.tree_size!;
  report.records = b.records.length;

  let verifiers: readonly Verifier[];
  try {
    verifiers = pinned ?? b.keys.map(parseVerifierKey);
  } catch (e) {
    return fail('keys', (e as Error).message);
  }
  const opened = openCheckpoint(b.checkpoint, verifiers);
  if (!opened.ok) return fail('checkpoint', `does not verify under the ${pinned ? 'pinned' : "bundle's"} keys: ${opened.reason}`);
  report.origin = opened.checkpoint.origin;
  report.checkpoint_time = opened.checkpoint.time;
  // The keys whose signatures verified, by id: a key merely listed, or sharing a name, is not named.
  report.signed_by = opened.signers.map((v) => encodeVerifierKey(v).split('+').slice(0, 2).join('+'));
  if (opened.checkpoint.size !== b.tree_size) return fail('tree_size', `is ${b.tree_size}, the checkpoint signs ${opened.checkpoint.size}`);

  // Each record: whole, in place, as stored (canonical JSON), well formed; then its chain link,
  // judged as `audit verify` judges it, so a broken link is blamed on the record that was altered
  // (the one before the break, when the record after it is intact), not on its intact successor.
  const chains = new ChainChecker();
  const times: number[] = [];
  const leaves = b.records.map((text, i) => {
    const seq = b.first_seq! + i;
    const leaf = leafHash(Buffer.from(text, 'utf8'));
    try {
      const { record, problem } = checkRecord(text, seq);
      if (problem) fail(problem.field, problem.reason, seq);
      else times.push(Date.parse(String(record?.time)));
      // A record with a problem of its own still takes its place in its chain: left out, it would
      // leave the break after it to be blamed on the intact record before it.
      if (record) link(chains, record, { seq, segment: 'bundle', offset: i }, hex(leaf));
    } catch (e) {
      // A record built to break the checks (a number JSON cannot hold, nesting deeper than the stack).
      fail('record', `cannot be checked: ${(e as Error).message}`, seq);
    }
    return leaf;
  });
  for (const blame of chains.finish()) fail(blame.field, blame.reason, blame.at.seq);
  // In bundle order: the first problem named is the first record at fault.
  report.problems.sort((x, y) => (x.seq ?? Infinity) - (y.seq ?? Infinity));
  report.chains = chains.chains;
  const root = rootFromRange(
    b.tree_size!,
    b.first_seq!,
    leaves,
    b.proof.map((h) => Buffer.from(h, 'hex')),
  );
  if (!root || hex(root) !== hex(opened.checkpoint.root))
    fail('proof', 'the records are not the run of leaves the checkpoint signed at these positions');
  if (times.length === b.records.length) report.window = windowCoverage(w.from as string | null, w.to as string | null, times, b);
  report.ok = report.problems.length === 0;
  return report;
}

/** The record, or why it is not what the log stores at `seq`. */
function checkRecord(text: string, seq: number): { record?: Record<string, unknown>; problem?: BundleProblem } {
  const v: unknown = JSON.parse(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { problem: { field: 'record', reason: 'is not a JSON object' } };
  const record = v as Record<string, unknown>;
  if (record.seq !== seq)
    return { record, problem: { field: 'seq', reason: `is ${String(record.seq)}, its place in the bundle is ${seq}` } };
  if (canonicalJson(record) !== text)
    return { record, problem: { field: 'record', reason: 'is not in canonical form (RFC 8785): it is not the stored bytes' } };
  const bad = checkFields(record)[0];
  return bad ? { record, problem: bad } : { record };
}

/**
 * Check a record's link in its chain. A chain's first record in the bundle links to a
 * record before the bundle (unless it is the chain's first of all): it starts the chain there.
 */
function link(chains: ChainChecker, record: Record<string, unknown>, loc: Loc, leaf: string): void {
  const chain = chainOf(record);
  const { lamport_seq: lamport, prev_hash: prev } = record;
  if (!chains.has(chain) && typeof lamport === 'number' && lamport > 0 && typeof prev === 'string') chains.seed(chain, loc, prev, lamport);
  chains.check(loc, chain, lamport, prev, leaf);
}

/**
 * How the run covers the window it claims. The start is complete when the run's first record is
 * before the window or is the log's first; the end, when its last record is after the window. A
 * run that ends at the checkpoint's edge inside the window may be followed by records not signed yet.
 */
function windowCoverage(
  from: string | null,
  to: string | null,
  times: number[],
  b: Partial<EvidenceBundle>,
): NonNullable<BundleReport['window']> {
  const lo = from === null ? -Infinity : Date.parse(from);
  const hi = to === null ? Infinity : Date.parse(to);
  return {
    from,
    to,
    records: times.filter((t) => t >= lo && t <= hi).length,
    complete: { start: b.first_seq === 0 || times[0]! < lo, end: times.at(-1)! > hi },
  };
}

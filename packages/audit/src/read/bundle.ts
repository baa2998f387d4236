/**
 * Evidence bundles (`audit export --include-public-keys`, `audit verify-bundle`): a run of records
 * with what an auditor needs to check them offline, without the log and without the KMS — the
 * checkpoint signed over the log, a range proof that the records are the run of leaves it signed
 * at their positions, and the public keys that verify it. The verifier recomputes every leaf, the
 * root and the signature, checks each record's fields, and the chain links inside the run.
 */
import { canonicalJson } from '@faramesh/protocol';
import { openCheckpoint } from '../checkpoint.js';
import { encodeVerifierKey, parseVerifierKey } from '../keys.js';
import { leafHash, rangeProof, rootFromRange } from '../merkle.js';
import type { Verifier } from '../note.js';
import { chainOf } from '../log/sequencer.js';
import { inWindow, type TimeWindow } from '../verify/window.js';
import { checkFields } from '../verify/fields.js';
import { loadProvable } from './proofs.js';

export const BUNDLE_FORMAT = 'faramesh-audit-bundle/1';

export interface EvidenceBundle {
  format: typeof BUNDLE_FORMAT;
  exported_at: string;
  /** The window asked for (RFC 3339 or null), and the run of records that covers it. */
  from: string | null;
  to: string | null;
  first_seq: number;
  /** The signed checkpoint (a C2SP signed note) the records are proven against. */
  checkpoint: string;
  tree_size: number;
  /** The verifier keys that sign the checkpoint (`name+id+key`): compare their ids with the ones the operator published. */
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
}

const hex = (h: Uint8Array) => Buffer.from(h).toString('hex');

/**
 * The bundle for the records in `window` (epoch ms bounds), against the latest checkpoint a pinned
 * key signed. The run is contiguous: a record between two in the window is included too.
 */
export function exportBundle(
  dir: string,
  verifiers: readonly Verifier[],
  window: TimeWindow,
  bounds: { from?: string; to?: string },
): BundleExport {
  // Held from the window's first record on: the run is what lies between its first and last.
  let started = false;
  const matches = new Set<number>();
  const { records, leaves, latest } = loadProvable(dir, verifiers, (r) => {
    if (inWindow(r.record.time, window)) matches.add(r.seq);
    return (started ||= matches.has(r.seq));
  });
  if (!latest) throw new Error('the log has no checkpoint signed by a pinned key yet: nothing can be proven');
  const size = latest.checkpoint.size;
  const matching = records.filter((r) => matches.has(r.seq));
  const covered = matching.filter((r) => r.seq < size);
  if (covered.length === 0)
    throw new Error(
      matching.length > 0
        ? `the window's ${matching.length} records are all after the latest checkpoint (tree size ${size}): export again after the next one`
        : 'no records in the window',
    );
  const a = covered[0]!.seq;
  const b = covered.at(-1)!.seq + 1;
  const opened = openCheckpoint(latest.note, verifiers);
  const signers = new Set(opened.ok ? opened.verifiedBy : []);
  return {
    bundle: {
      format: BUNDLE_FORMAT,
      exported_at: new Date().toISOString(),
      from: bounds.from ?? null,
      to: bounds.to ?? null,
      first_seq: a,
      checkpoint: latest.note,
      tree_size: size,
      keys: verifiers.filter((v) => signers.has(v.name)).map(encodeVerifierKey),
      proof: rangeProof(leaves, a, b, size).map(hex),
      records: records.slice(0, b - a).map((r) => r.payload.toString('utf8')),
    },
    // A checkpoint's own record comes after the tree it signs: not counted as left out.
    unsigned: matching.filter((r) => r.seq >= size && r.record.type !== 'checkpoint').length,
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
  /** The keys the checkpoint verified under, and whether they were pinned by the caller or taken from the bundle. */
  signed_by: string[];
  keys_from: 'pinned' | 'bundle';
  chains: number;
  problems: BundleProblem[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

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
  report.signed_by = verifiers
    .filter((v) => opened.verifiedBy.includes(v.name))
    .map((v) => encodeVerifierKey(v).split('+').slice(0, 2).join('+'));
  if (opened.checkpoint.size !== b.tree_size) return fail('tree_size', `is ${b.tree_size}, the checkpoint signs ${opened.checkpoint.size}`);

  // Each record: whole, in place, well formed, as stored (canonical JSON); then its chain link.
  const tips = new Map<string, { leaf: string; lamport: number }>();
  const leaves = b.records.map((text, i) => {
    const seq = b.first_seq! + i;
    let record: Record<string, unknown> | undefined;
    try {
      const v: unknown = JSON.parse(text);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) record = v as Record<string, unknown>;
    } catch {
      // Reported below.
    }
    const leaf = leafHash(Buffer.from(text, 'utf8'));
    if (!record) fail('record', 'is not a JSON object', seq);
    else if (record.seq !== seq) fail('seq', `is ${String(record.seq)}, its place in the bundle is ${seq}`, seq);
    else if (canonicalJson(record) !== text) fail('record', 'is not in canonical form (RFC 8785): it is not the stored bytes', seq);
    else {
      const bad = checkFields(record)[0];
      if (bad) fail(bad.field, bad.reason, seq);
      const chain = chainOf(record);
      const tip = tips.get(chain);
      if (tip && record.lamport_seq !== tip.lamport + 1)
        fail('lamport_seq', `expected ${tip.lamport + 1} after the chain's previous record`, seq);
      else if (tip && record.prev_hash !== tip.leaf) fail('prev_hash', "does not link to the chain's previous record", seq);
      tips.set(chain, { leaf: hex(leaf), lamport: Number(record.lamport_seq) });
    }
    return leaf;
  });
  report.chains = tips.size;
  const root = rootFromRange(
    b.tree_size!,
    b.first_seq!,
    leaves,
    b.proof.map((h) => Buffer.from(h, 'hex')),
  );
  if (!root || hex(root) !== hex(opened.checkpoint.root))
    fail('proof', 'the records are not the run of leaves the checkpoint signed at these positions');
  report.ok = report.problems.length === 0;
  return report;
}

/**
 * Proofs against signed checkpoints, computed from the log's files: that a record is in the log
 * (inclusion), and that the log today extends a checkpoint kept elsewhere (consistency) — so an
 * off-host copy of an old checkpoint exposes truncation or rewriting.
 */
import { openCheckpoint, type Checkpoint } from '../checkpoint.js';
import { readBase, readBaseLeaves } from '../log/base.js';
import { consistencyProof, inclusionProof, leafHash, subtreeRoot, verifyConsistency, verifyInclusion, type Hash } from '../merkle.js';
import type { Verifier } from '../note.js';
import { eachRecord, LogFollower, type StoredRecord } from './follower.js';
import { eachArchivedRecord } from './archived.js';
import { encodeVerifierKey } from '../keys.js';

const hex = (h: Hash) => Buffer.from(h).toString('hex');

/** The log's records no longer hash to the root of a checkpoint it holds: it was altered since. */
export class LogMismatchError extends Error {
  override name = 'LogMismatchError';
}

export interface Latest {
  checkpoint: Checkpoint;
  note: string;
  seq: number;
}

/**
 * The log's leaves and its latest checkpoint that verifies under the pinned keys and matches the
 * leaves, in one streaming pass that hands each record to `visit` (a long log is never held whole,
 * only its 32-byte leaves).
 */
export function loadProvable(
  dir: string,
  verifiers: readonly Verifier[],
  visit: (r: StoredRecord) => void = () => {},
): { leaves: Hash[]; latest?: Latest } {
  const leaves: Hash[] = compactedLeaves(dir);
  let latest: Latest | undefined;
  // Only the key the last key_rotated named signs from there on (as in verify): a checkpoint by a key
  // the log moved away from (the stack key left on the host after a move to a KMS) is not the latest.
  let inForce = readBase(dir)?.base.key;
  eachRecord(dir, (r) => {
    leaves.push(leafHash(r.payload));
    visit(r);
    if (r.record.type === 'key_rotated') inForce = String(r.record.key);
    if (r.record.type !== 'checkpoint') return;
    if (inForce !== undefined && r.record.key !== inForce) return;
    const pinned = inForce === undefined ? verifiers : verifiers.filter((v) => encodeVerifierKey(v) === inForce);
    const opened = openCheckpoint(String(r.record.note), pinned);
    if (!opened.ok || opened.checkpoint.size > r.seq) return;
    if (!latest || opened.checkpoint.size >= latest.checkpoint.size)
      latest = { checkpoint: opened.checkpoint, note: String(r.record.note), seq: r.seq };
  });
  if (latest && hex(subtreeRoot(leaves, 0, latest.checkpoint.size)) !== hex(latest.checkpoint.root))
    throw new LogMismatchError(
      `the log no longer matches its latest checkpoint (tree size ${latest.checkpoint.size}): run faramesh audit verify`,
    );
  return { leaves, ...(latest ? { latest } : {}) };
}

/** The leaf hashes of records compacted into archive files (none when the log was never compacted). */
function compactedLeaves(dir: string): Hash[] {
  const base = readBase(dir);
  if (!base) return [];
  const all = readBaseLeaves(dir, base.base);
  return Array.from({ length: base.base.size }, (_, i) => all.subarray(i * 32, i * 32 + 32));
}

/** For a record not found: where the log's older records went, if it was compacted ('' if not). */
export function compactedNote(dir: string): string {
  const base = readBase(dir)?.base;
  return base ? ` (the log's first ${base.size} records were compacted into archive files in ${base.archive_dir})` : '';
}

/** The latest checkpoint that verifies under the pinned keys and matches the log: to keep off-host. */
export function latestCheckpoint(dir: string, verifiers: readonly Verifier[]): { note: string; size: number } | undefined {
  const { latest } = loadProvable(dir, verifiers);
  return latest && { note: latest.note, size: latest.checkpoint.size };
}

export interface InclusionResult {
  action_id: string;
  seq: number;
  leaf_hash: string;
  tree_size: number;
  root: string;
  /** The RFC 6962 audit path, leaf to root. */
  proof: string[];
  /** The signed checkpoint the proof leads to. */
  checkpoint: string;
}

/** Normalise `action-<ulid>`, `dpr-<ulid>` or a bare ULID to the record id. */
export const recordId = (ref: string): string => ref.replace(/^(action|dpr)-/, '');

export function findRecord(records: readonly StoredRecord[], ref: string): StoredRecord | undefined {
  const id = recordId(ref);
  return records.find((r) => r.record.id === id);
}

/** The live log's record `ref` names, read a batch at a time until it is found: the log is never held whole. */
export function findLoggedRecord(dir: string, ref: string): StoredRecord | undefined {
  const follower = new LogFollower(dir);
  for (let batch = follower.poll(1024); batch.length > 0; batch = follower.poll(1024)) {
    const found = findRecord(batch, ref);
    if (found) return found;
  }
  return undefined;
}

/** The archived record `ref` names, read from the archives (undefined when none holds it). */
export function findArchivedRecord(dir: string, ref: string, archiveDir?: string): StoredRecord | undefined {
  const id = recordId(ref);
  let found: StoredRecord | undefined;
  eachArchivedRecord(
    dir,
    (r) => {
      if (r.record.id === id) found ??= r;
    },
    archiveDir === undefined ? {} : { archiveDir },
  );
  return found;
}

/**
 * The inclusion proof of `ref` against the latest checkpoint a pinned key signed. With `archived`,
 * a record compaction moved is looked for in the archive files too; its leaf must be the one the
 * base keeps for its position.
 */
export function proveInclusion(
  dir: string,
  ref: string,
  verifiers: readonly Verifier[],
  archived?: { archiveDir?: string },
): InclusionResult {
  const id = recordId(ref);
  let target: StoredRecord | undefined;
  const { leaves, latest } = loadProvable(dir, verifiers, (r) => {
    if (r.record.id === id) target ??= r;
  });
  if (!target && archived) {
    target = findArchivedRecord(dir, ref, archived.archiveDir);
    if (target && hex(leaves[target.seq] ?? new Uint8Array()) !== hex(leafHash(target.payload)))
      throw new LogMismatchError(
        `the archived record ${ref} is not the one the log's base keeps at seq ${target.seq}: run faramesh audit verify --include-archived`,
      );
  }
  if (!target) throw new Error(`no record ${ref} in ${dir}${archived ? ' nor in its archive files' : compactedNote(dir)}`);
  if (!latest) throw new Error('the log has no checkpoint signed by a pinned key yet');
  const size = latest.checkpoint.size;
  if (target.seq >= size)
    throw new Error(
      `record ${ref} (seq ${target.seq}) is after the latest checkpoint (tree size ${size}); the next checkpoint will cover it`,
    );
  const proof = inclusionProof(leaves, target.seq, 0, size);
  if (!verifyInclusion(target.seq, size, leaves[target.seq]!, proof, latest.checkpoint.root))
    throw new Error('internal error: the inclusion proof does not verify');
  return {
    action_id: `action-${recordId(ref)}`,
    seq: target.seq,
    leaf_hash: hex(leaves[target.seq]!),
    tree_size: size,
    root: hex(latest.checkpoint.root),
    proof: proof.map(hex),
    checkpoint: latest.note,
  };
}

export type ConsistencyResult =
  | { ok: true; old_size: number; new_size: number; old_root: string; new_root: string; proof: string[]; checkpoint: string }
  | { ok: false; reason: string };

/** Does the log extend the (pinned-key-signed) checkpoint `oldNote`? */
export function proveConsistency(dir: string, oldNote: string, verifiers: readonly Verifier[]): ConsistencyResult {
  const old = openCheckpoint(oldNote, verifiers);
  if (!old.ok) return { ok: false, reason: `the old checkpoint does not verify against a pinned key: ${old.reason}` };
  let provable: ReturnType<typeof loadProvable>;
  try {
    provable = loadProvable(dir, verifiers);
  } catch (e) {
    // The log no longer matches a checkpoint it holds: it was rewritten. That is the answer, not a failure to give one.
    if (e instanceof LogMismatchError) return { ok: false, reason: `${e.message}: the log was rewritten` };
    throw e;
  }
  const { leaves, latest } = provable;
  const m = old.checkpoint.size;
  if (latest && latest.checkpoint.origin !== old.checkpoint.origin)
    return { ok: false, reason: `the old checkpoint is for log '${old.checkpoint.origin}', this log is '${latest.checkpoint.origin}'` };
  if (leaves.length < m)
    return { ok: false, reason: `the log holds ${leaves.length} records but the old checkpoint signed ${m}: the log was truncated` };
  if (hex(subtreeRoot(leaves, 0, m)) !== hex(old.checkpoint.root))
    return { ok: false, reason: `the first ${m} records are not the ones the old checkpoint signed: the log was rewritten` };
  if (!latest || latest.checkpoint.size < m) return { ok: false, reason: 'no checkpoint in the log is as recent as the old one yet' };
  const n = latest.checkpoint.size;
  const proof = consistencyProof(leaves, m, n);
  if (!verifyConsistency(m, n, old.checkpoint.root, latest.checkpoint.root, proof))
    throw new Error('internal error: the consistency proof does not verify');
  return {
    ok: true,
    old_size: m,
    new_size: n,
    old_root: hex(old.checkpoint.root),
    new_root: hex(latest.checkpoint.root),
    proof: proof.map(hex),
    checkpoint: latest.note,
  };
}

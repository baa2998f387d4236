/**
 * faramesh audit show <id> and the record side of faramesh explain <action-id>: one record, where it
 * sits in the log, whether its chain holds up to it, and which signed checkpoint covers it.
 */
import {
  compactedNote,
  findArchivedRecord,
  findLoggedRecord,
  leafHashHex,
  proveInclusion,
  verifyLog,
  type StoredRecord,
} from '@faramesh/audit';
import { makeOut, type Out } from '../../output.js';
import { recordBlock } from './render.js';
import { archivedFrom, pinnedKeys, walDir, type AuditPathOptions } from './paths.js';

export interface ShowOptions extends AuditPathOptions {
  format: 'text' | 'json';
  noColor?: boolean;
}

export interface Evidence {
  record: StoredRecord;
  leaf_hash: string;
  /** The first problem at or before this record, if the log does not verify up to it. */
  chain: { ok: true } | { ok: false; seq: number; field: string; reason: string };
  /** The checkpoint covering it, when one does and verifies under a pinned key. */
  signed?: { tree_size: number; signer: string; note: string };
  unsignedReason?: string;
}

/** Find the record and gather the evidence for it; undefined when the log has no such record. */
export function evidenceFor(ref: string, o: AuditPathOptions): Evidence | undefined {
  const dir = walDir(o);
  // Under --include-archived, a record compaction moved is read from its archive, and the chain
  // is judged with the archives read in full.
  const archived = archivedFrom(o);
  const record = findLoggedRecord(dir, ref) ?? (archived ? findArchivedRecord(dir, ref, archived.archiveDir) : undefined);
  if (!record) return undefined;
  const { verifiers } = pinnedKeys(o);
  const report = verifyLog(dir, { verifiers, ...(archived ? { includeArchived: true, ...archived } : {}) });
  // A checkpoint whose root does not match names itself, not the record that was altered: that one is
  // somewhere after the last checkpoint that matched, and the last record of a chain has no successor
  // to expose it. So no record from there on can be said to verify. The same holds for a checkpoint
  // whose signature (or key) fails under a pinned key: its root is never compared, so a forger who
  // re-signs it hides the alteration. Without a pinned key every signature fails, and says nothing.
  const checkpointProblem = (field: string) => field === 'root' || (verifiers.length > 0 && (field === 'note' || field === 'key'));
  const problem = report.problems.find(
    (p) =>
      (p.field !== 'note' || verifiers.length > 0) &&
      (p.seq <= record.seq || (checkpointProblem(p.field) && record.seq >= report.checkpoints.lastSize)),
  );
  const evidence: Evidence = {
    record,
    leaf_hash: leafHashHex(record.payload),
    chain: problem ? { ok: false, seq: problem.seq, field: problem.field, reason: problem.reason } : { ok: true },
  };
  try {
    const proof = proveInclusion(dir, ref, verifiers, archived);
    evidence.signed = {
      tree_size: proof.tree_size,
      signer: proof.checkpoint.split('\n— ')[1]?.split(' ')[0] ?? '?',
      note: proof.checkpoint,
    };
  } catch (e) {
    evidence.unsignedReason = (e as Error).message;
  }
  return evidence;
}

/** The evidence for `ref`, or undefined after saying why there is none. */
export function loadEvidence(ref: string, o: AuditPathOptions, out: Out): Evidence | undefined {
  try {
    const ev = evidenceFor(ref, o);
    if (!ev)
      out.error(out.fail(`no record ${ref} in ${walDir(o)}${o.includeArchived ? ' or its archive files' : compactedNote(walDir(o))}`));
    return ev;
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return undefined;
  }
}

export function showCmd(ref: string, o: ShowOptions): number {
  const out = makeOut(o.noColor);
  const ev = loadEvidence(ref, o, out);
  if (!ev) return 1;
  if (o.format === 'json') {
    out.print(
      JSON.stringify(
        {
          record: ev.record.record,
          leaf_hash: ev.leaf_hash,
          segment: ev.record.segment,
          offset: ev.record.offset,
          chain: ev.chain,
          signed: ev.signed ?? null,
        },
        null,
        2,
      ),
    );
    return ev.chain.ok ? 0 : 1;
  }
  out.print(ev.record.record.type === 'decision' ? 'DPR' : `Record (${String(ev.record.record.type)})`);
  out.print(
    recordBlock(ev.record.record, [
      ['this_hash', ev.leaf_hash],
      ['file', `${ev.record.segment} offset=${ev.record.offset}`],
      ['chain', chainLine(ev)],
      ['signed', signedLine(ev)],
    ]),
  );
  return ev.chain.ok ? 0 : 1;
}

export const chainLine = (ev: Evidence) =>
  ev.chain.ok
    ? 'prev_hash matches; the log verifies up to this record'
    : `broken at seq ${ev.chain.seq} (${ev.chain.field}: ${ev.chain.reason})`;
export const signedLine = (ev: Evidence) =>
  ev.signed
    ? `covered by the checkpoint of tree size ${ev.signed.tree_size}, signed by ${ev.signed.signer} (pinned)`
    : `not yet: ${ev.unsignedReason}`;

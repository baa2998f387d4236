/**
 * faramesh audit proof <action-id>: an RFC 6962 inclusion proof of one record against the latest
 * checkpoint. faramesh audit consistency <old-checkpoint-file>: prove the log extends a checkpoint
 * kept elsewhere (exit 1 when it was truncated or rewritten). faramesh audit checkpoint: print the
 * latest signed checkpoint, to keep off-host for that.
 */
import { readFileSync } from 'node:fs';
import { latestCheckpoint, proveConsistency, proveInclusion } from '@faramesh/audit';
import { makeOut } from '../../output.js';
import { archivedFrom, pinnedKeys, walDir, type AuditPathOptions } from './paths.js';

export interface ProofOptions extends AuditPathOptions {
  format: 'text' | 'json';
  noColor?: boolean;
}

export function proofCmd(ref: string, o: ProofOptions): number {
  const out = makeOut(o.noColor);
  try {
    const p = proveInclusion(walDir(o), ref, pinnedKeys(o).verifiers, archivedFrom(o));
    if (o.format === 'json') out.print(JSON.stringify(p, null, 2));
    else {
      out.done(`${p.action_id} is record ${p.seq} of the tree of ${p.tree_size} signed by the latest checkpoint`);
      out.print(`  leaf hash   ${p.leaf_hash}`);
      out.print(`  root        ${p.root}`);
      out.print(`  audit path  ${p.proof.length ? p.proof.join('\n              ') : '(none: a single-record tree)'}`);
      out.print(`\ncheckpoint:\n${p.checkpoint}`);
    }
    return 0;
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
}

export function consistencyCmd(file: string, o: ProofOptions): number {
  const out = makeOut(o.noColor);
  let note: string;
  try {
    note = readFileSync(file, 'utf8');
  } catch (e) {
    out.error(out.fail(`cannot read ${file}: ${(e as Error).message}`));
    return 2;
  }
  try {
    const r = proveConsistency(walDir(o), note, pinnedKeys(o).verifiers);
    if (o.format === 'json') out.print(JSON.stringify(r, null, 2));
    else if (!r.ok) out.print(out.fail(r.reason));
    else {
      out.done(`the log extends the old checkpoint: tree size ${r.old_size} → ${r.new_size}`);
      out.print(`  old root  ${r.old_root}\n  new root  ${r.new_root}`);
      out.print(`  proof     ${r.proof.length ? r.proof.join('\n            ') : '(none needed)'}`);
    }
    return r.ok ? 0 : 1;
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 2;
  }
}

export function checkpointCmd(o: ProofOptions): number {
  const out = makeOut(o.noColor);
  try {
    const latest = latestCheckpoint(walDir(o), pinnedKeys(o).verifiers);
    if (!latest) {
      out.error(out.fail('the log has no checkpoint signed by a pinned key yet'));
      return 1;
    }
    process.stdout.write(o.format === 'json' ? `${JSON.stringify(latest, null, 2)}\n` : latest.note);
    return 0;
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
}

/**
 * Checkpoints: the signed tree head of the log, in the C2SP tlog-checkpoint text format —
 * origin, tree size, base64 root hash — plus a `time` extension line, as a signed note.
 */
import { openNote, signNote, type Signer, type Verifier } from './note.js';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  /** RFC 3339, when the checkpoint was signed. */
  time: string;
}

export function checkpointText(c: Checkpoint): string {
  return `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString('base64')}\ntime ${c.time}\n`;
}

export function signCheckpoint(c: Checkpoint, signer: Signer): Promise<string> {
  return signNote(checkpointText(c), [signer]);
}

export type CheckpointCheck =
  { ok: true; checkpoint: Checkpoint; verifiedBy: string[]; signers: Verifier[] } | { ok: false; reason: string };

/** Verify a signed checkpoint against pinned keys and parse it. */
export function openCheckpoint(note: string, verifiers: readonly Verifier[]): CheckpointCheck {
  const opened = openNote(note, verifiers);
  if (!opened.ok) return opened;
  const lines = opened.text.split('\n').slice(0, -1);
  const [origin, size, root, ...ext] = lines;
  if (!origin || !size || !/^\d+$/.test(size) || !root)
    return { ok: false, reason: 'not a checkpoint: expected origin, size and root hash lines' };
  const rootBytes = Buffer.from(root, 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root)
    return { ok: false, reason: 'the root hash is not 32 bytes of base64' };
  const time = ext.find((l) => l.startsWith('time '))?.slice(5) ?? '';
  return {
    ok: true,
    checkpoint: { origin, size: Number(size), root: rootBytes, time },
    verifiedBy: opened.verifiedBy,
    signers: opened.signers,
  };
}

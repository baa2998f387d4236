/**
 * The snapshot: the sequencer's state at a durable point (tree edge, per-chain tips, where the
 * active segment ends), so opening a large log reads only the records after it instead of
 * replaying history. It is an accelerator, not a source of truth: a missing or damaged snapshot
 * means a full scan. `audit verify` trusts nothing in it: it reads only its size, to see whether
 * records were removed from the log's end, and says when it is damaged or missing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '@faramesh/protocol';
import { writeDurable } from './files.js';
import { parseJsonObject, sha256hex } from './manifest.js';

export const SNAPSHOT_FILE = 'snapshot.json';
const FORMAT = 'faramesh-wal-snapshot/1';

export interface Snapshot {
  /** Records covered. */
  size: number;
  /** The segment those records end in, and the byte offset just after them. */
  segment: string;
  offset: number;
  segment_first_seq: number;
  /** The latest record time in that segment so far ('' none), when every one was readable. */
  segment_max_time?: string;
  /** The Merkle tree's right edge (hex, subtree size). */
  edge: [string, number][];
  /** Per chain: the last record's leaf hash and lamport_seq. */
  tips: Record<string, [string, number]>;
  /** The tree size the last checkpoint signed. */
  checkpoint_size?: number;
  /** The signing key (vkey) the log last announced, by a checkpoint or a key rotation. */
  key?: string;
  /** The last record's segment, offset and leaf hash (absent from snapshots before it was kept). */
  last?: { segment: string; offset: number; leaf: string };
}

export function writeSnapshot(dir: string, s: Snapshot): void {
  const body = canonicalJson({ format: FORMAT, ...s });
  writeDurable(dir, SNAPSHOT_FILE, canonicalJson({ body, sha256: sha256hex(body) }));
}

/** The snapshot; 'damaged' when it does not check out; undefined when there is none. */
export function readSnapshot(dir: string): Snapshot | 'damaged' | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, SNAPSHOT_FILE), 'utf8');
  } catch {
    return undefined;
  }
  return parseSnapshot(text) ?? 'damaged';
}

function parseSnapshot(text: string): Snapshot | undefined {
  const outer = parseJsonObject(text);
  if (!outer || typeof outer.body !== 'string' || outer.sha256 !== sha256hex(outer.body)) return undefined;
  const s = parseJsonObject(outer.body);
  if (!s || s.format !== FORMAT) return undefined;
  const ints = [s.size, s.offset, s.segment_first_seq].every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
  if (!ints || typeof s.segment !== 'string' || !Array.isArray(s.edge)) return undefined;
  if (!s.tips || typeof s.tips !== 'object') return undefined;
  return s as unknown as Snapshot;
}

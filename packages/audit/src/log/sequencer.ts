/**
 * The sequencer's state: where the next record goes and what it links to. Appending and recovery
 * advance it through the same two steps, so a reopened log continues exactly where it stopped.
 */
import { GENESIS_HASH } from '../record.js';
import { MerkleFrontier } from '../merkle.js';
import type { Sequenced } from '../events.js';
import type { Snapshot } from './snapshot.js';
import { foldTime, isTimeBound } from './time-bound.js';

export interface LastRecord {
  segment: string;
  offset: number;
  leaf: string;
}

interface Tip {
  hash: string;
  lamport: number;
}

/** The chain a record belongs to: its agent's, or the stack's for records without one. */
export const chainOf = (record: { agent_id?: unknown }): string => (typeof record.agent_id === 'string' ? record.agent_id : '');

export class SequencerState {
  nextSeq = 0;
  frontier = new MerkleFrontier();
  tips = new Map<string, Tip>();
  /** The active segment: its name, durable length and first record. */
  segment = '';
  segmentBytes = 0;
  segmentFirstSeq = 0;
  /** The latest record time in the active segment ('' none yet; null: one could not be read). */
  segmentMaxTime: string | null = '';
  /** The tree size the last checkpoint signed: what a reopened log has yet to sign starts there. */
  checkpointSize?: number;
  key?: string;
  /** Where the last record is, and its leaf hash: what a position in the log is recognised by. */
  last?: LastRecord;

  /** The fields the next record of `chain` receives. */
  sequence(chain: string): Sequenced {
    const tip = this.tips.get(chain);
    return { seq: this.nextSeq, lamport_seq: (tip?.lamport ?? -1) + 1, prev_hash: tip?.hash ?? GENESIS_HASH };
  }

  /** Account for the record just placed at `nextSeq`. */
  advance(
    chain: string,
    lamport: number,
    leaf: Buffer,
    record: { type?: unknown; key?: unknown; size?: unknown; time?: unknown },
    leafHex = leaf.toString('hex'),
  ): void {
    this.tips.set(chain, { hash: leafHex, lamport });
    this.frontier.append(leaf);
    this.nextSeq++;
    this.segmentMaxTime = foldTime(this.segmentMaxTime, record.time);
    if (record.type === 'checkpoint' && typeof record.size === 'number') this.checkpointSize = record.size;
    if ((record.type === 'checkpoint' || record.type === 'key_rotated') && typeof record.key === 'string') this.key = record.key;
  }

  startSegment(name: string, firstSeq: number, headerBytes: number): void {
    this.segment = name;
    this.segmentFirstSeq = firstSeq;
    this.segmentBytes = headerBytes;
    this.segmentMaxTime = '';
  }

  /** The chain tips as a snapshot or a base stores them. */
  tipsJSON(): Snapshot['tips'] {
    // Chains are named by agent ids from the wire: keys are defined, never assigned (`__proto__` is one).
    return Object.fromEntries([...this.tips].map(([chain, t]) => [chain, [t.hash, t.lamport]]));
  }

  toSnapshot(): Snapshot {
    const tips = this.tipsJSON();
    return {
      size: this.nextSeq,
      segment: this.segment,
      offset: this.segmentBytes,
      segment_first_seq: this.segmentFirstSeq,
      ...(this.segmentMaxTime !== null ? { segment_max_time: this.segmentMaxTime } : {}),
      edge: this.frontier.toJSON(),
      tips,
      ...(this.checkpointSize !== undefined ? { checkpoint_size: this.checkpointSize } : {}),
      ...(this.key !== undefined ? { key: this.key } : {}),
      ...(this.last ? { last: this.last } : {}),
    };
  }

  /** Rebuild from a snapshot; throws when it is inconsistent. */
  static fromSnapshot(s: Snapshot): SequencerState {
    const state = SequencerState.at(s);
    if (s.segment_first_seq > s.size) throw new Error('the snapshot disagrees with itself about its size');
    state.segment = s.segment;
    state.segmentBytes = s.offset;
    state.segmentFirstSeq = s.segment_first_seq;
    // A snapshot from before segments kept a time bound: this segment's earlier records are unknown.
    const bound = s.segment_max_time;
    state.segmentMaxTime = bound === '' || isTimeBound(bound) ? bound : null;
    if (s.last !== undefined) {
      const { segment, offset, leaf } = s.last;
      if (typeof segment !== 'string' || !Number.isSafeInteger(offset) || typeof leaf !== 'string' || !/^[0-9a-f]{64}$/.test(leaf))
        throw new Error('malformed last record');
      state.last = { segment, offset, leaf };
    }
    return state;
  }

  /**
   * The state after `size` records, from their tree edge, chain tips, last checkpoint and key (a
   * snapshot's, or a compacted log's base); throws when they are inconsistent.
   */
  static at(s: Pick<Snapshot, 'size' | 'edge' | 'tips' | 'checkpoint_size' | 'key'>): SequencerState {
    const state = new SequencerState();
    state.frontier = MerkleFrontier.fromJSON(s.edge);
    if (state.frontier.size !== s.size) throw new Error('the tree edge does not hold as many records as the state says');
    for (const [chain, tip] of Object.entries(s.tips)) {
      if (!Array.isArray(tip) || typeof tip[0] !== 'string' || !Number.isSafeInteger(tip[1])) throw new Error('malformed chain tip');
      state.tips.set(chain, { hash: tip[0], lamport: tip[1] });
    }
    state.nextSeq = s.size;
    if (s.checkpoint_size !== undefined) state.checkpointSize = s.checkpoint_size;
    if (s.key !== undefined) state.key = s.key;
    return state;
  }
}

/**
 * Engine-state snapshots, so a restart replays only the log's tail. A snapshot is the engine state
 * and the log position it is exact for, captured in one synchronous step (decisions apply their
 * delta and append its record without yielding, so the two always agree) and written only once
 * every record before that position is durable. It is an accelerator, never the truth: one that
 * does not match the log (another log, a position past its end, a different record there) is
 * ignored and the whole log is replayed.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { leafAt, writeDurable, type AuditLog, type LogTip } from '@faramesh/audit';
import type { EngineState } from '@faramesh/engine';
import { replayLog, type LogFacts, type Replayed } from './state-replay.js';
import type { StateSeal } from '../stack/sealed-state.js';

export const STATE_SNAPSHOT_FILE = 'engine-state.json';
// 2: the snapshot carries the quiesced agents and the state files' generations (a /1 snapshot lacks them: the log is replayed whole).
const FORMAT = 'faramesh-state/2';
/** Take a snapshot after this many records, or this long after the last one if anything was appended. */
const EVERY_RECORDS = 20_000;
const EVERY_MS = 10_000;

interface Stored {
  format: typeof FORMAT;
  wal_dir: string;
  tip: LogTip;
  state: EngineState;
  facts: LogFacts;
}

export interface Restored extends Replayed {
  /** Where the replay started, and why not from a snapshot when it did not. */
  from: 'snapshot' | 'start';
  note?: string;
}

/** Rebuild the engine state: from the snapshot and the tail after it when it matches the log, else from the start. */
export function restoreState(stateDir: string, walDir: string, logSize: number, seal: StateSeal): Restored {
  const file = join(stateDir, STATE_SNAPSHOT_FILE);
  if (!existsSync(file)) return { ...replayLog(walDir), from: 'start' };
  const why = mismatch(file, walDir, logSize, seal);
  if (typeof why === 'string') return { ...replayLog(walDir), from: 'start', note: why };
  try {
    return {
      ...replayLog(walDir, { state: why.state, position: why.tip, facts: why.facts }),
      from: 'snapshot',
    };
  } catch (e) {
    return { ...replayLog(walDir), from: 'start', note: `the tail after the snapshot could not be read (${(e as Error).message})` };
  }
}

/** The snapshot when it describes this log, else why not. */
function mismatch(file: string, walDir: string, logSize: number, seal: StateSeal): Stored | string {
  let stored: Stored;
  try {
    // A snapshot whose seal fails (counters reset by hand) is not used: the log has the truth.
    stored = seal.open(STATE_SNAPSHOT_FILE, readFileSync(file, 'utf8')) as Stored;
  } catch (e) {
    return `the state snapshot is unusable (${(e as Error).message})`;
  }
  const { tip } = stored ?? {};
  if (
    stored?.format !== FORMAT ||
    typeof stored.state !== 'object' ||
    typeof stored.facts?.quiesced !== 'object' ||
    typeof stored.facts.sealed !== 'object' ||
    !tip ||
    typeof tip.seq !== 'number'
  )
    return 'the state snapshot has an unknown format';
  if (stored.wal_dir !== walDir) return `the state snapshot belongs to another log (${stored.wal_dir})`;
  if (tip.seq > logSize) return `the state snapshot is ahead of the log (record ${tip.seq} of ${logSize})`;
  if (tip.seq > 0 && (!tip.last || leafAt(walDir, tip.last.segment, tip.last.offset) !== tip.last.leaf))
    return 'the log does not hold the record the state snapshot ends at';
  return stored;
}

/** Takes snapshots when due; one at a time. */
export class StateSnapshots {
  private writing?: Promise<void>;
  private coveredSeq: number;
  private takenMs: number;

  constructor(
    private readonly seal: StateSeal,
    private readonly stateDir: string,
    private readonly walDir: string,
    private readonly log: AuditLog,
    private readonly current: () => { state: EngineState; facts: LogFacts },
    nowMs: number,
  ) {
    this.coveredSeq = log.size;
    this.takenMs = nowMs;
  }

  due(nowMs: number): boolean {
    const behind = this.log.size - this.coveredSeq;
    return behind >= EVERY_RECORDS || (behind > 0 && nowMs - this.takenMs >= EVERY_MS);
  }

  /** Capture now, write once what it covers is durable. A failing log means no snapshot (the log is the truth). */
  take(nowMs: number): Promise<void> {
    this.writing ??= (async () => {
      const { state, facts } = this.current();
      const tip = this.log.tip();
      const text = this.seal.seal(STATE_SNAPSHOT_FILE, { format: FORMAT, wal_dir: this.walDir, tip, state, facts } satisfies Stored);
      try {
        await this.log.settled();
        mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
        writeDurable(this.stateDir, STATE_SNAPSHOT_FILE, text);
        this.coveredSeq = tip.seq;
        this.takenMs = nowMs;
      } finally {
        this.writing = undefined;
      }
    })();
    return this.writing;
  }
}

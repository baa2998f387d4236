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
import { leafAt, readBase, writeDurable, type AuditLog, type LogTip } from '@faramesh/audit';
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

/**
 * Rebuild the engine state: from a snapshot and the tail after it, when one matches the log, else
 * from the first record. A compacted log no longer holds its first records: its base keeps a
 * snapshot of its own (taken when it was compacted), and when neither matches, the state cannot be
 * rebuilt and the start is refused (budgets and rate limits would restart at zero).
 */
export function restoreState(stateDir: string, walDir: string, logSize: number, seal: StateSeal): Restored {
  const file = join(stateDir, STATE_SNAPSHOT_FILE);
  const candidates: [string, string | undefined][] = [[STATE_SNAPSHOT_FILE, existsSync(file) ? readFileSync(file, 'utf8') : undefined]];
  const base = readBase(walDir)?.base;
  if (base) candidates.push(['the snapshot the log kept when it was compacted', base.carry]);
  const notes: string[] = [];
  for (const [label, text] of candidates) {
    if (text === undefined) continue;
    const stored = usable(text, walDir, logSize, seal, label !== STATE_SNAPSHOT_FILE);
    if (typeof stored === 'string') {
      notes.push(label === STATE_SNAPSHOT_FILE ? stored : `${label}: ${stored}`);
      continue;
    }
    try {
      const note = notes.length > 0 ? { note: notes.join('; ') } : {};
      return { ...replayLog(walDir, { state: stored.state, position: stored.tip, facts: stored.facts }), from: 'snapshot', ...note };
    } catch (e) {
      notes.push(`the tail after ${label === STATE_SNAPSHOT_FILE ? 'the snapshot' : label} could not be read (${(e as Error).message})`);
    }
  }
  if (base)
    throw new Error(
      `the log's first ${base.size} records were compacted and no state snapshot matches the log${notes.length ? ` (${notes.join('; ')})` : ''}: the engine state (budgets, rate limits) cannot be rebuilt`,
    );
  return { ...replayLog(walDir), from: 'start', ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
}

/**
 * The snapshot when it describes this log, else why not. `inLog`: the copy a compacted log's base
 * carries, which is this log's whatever path the log is read by now (a stack moved or reached
 * through another path): the record it ends at says whether it fits.
 */
function usable(text: string, walDir: string, logSize: number, seal: StateSeal, inLog = false): Stored | string {
  let stored: Stored;
  try {
    // A snapshot whose seal fails (counters reset by hand) is not used: the log has the truth.
    stored = seal.open(STATE_SNAPSHOT_FILE, text) as Stored;
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
  if (!inLog && stored.wal_dir !== walDir) return `the state snapshot belongs to another log (${stored.wal_dir})`;
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

  /** The log position the last snapshot written is exact for. */
  get covered(): number {
    return this.coveredSeq;
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

/**
 * Rebuilding what the daemon knows from its log on start: the engine state (rate buckets, budgets,
 * sessions), the last policy version applied and when, the quiesced agents, and the latest
 * generation of each anchored state file. The log is the truth; the engine's deltas hold absolute
 * values, so replaying them in order is exact. A snapshot (see state-snapshot.ts) lets the replay
 * start near the end instead of at the first record.
 */
import { LogFollower, type LogPosition } from '@faramesh/audit';
import { applyDelta, emptyState, isDeltaOp, type EngineState } from '@faramesh/engine';
import type { LoggedState } from '../stack/sealed-state.js';

/** An agent an operator stopped, and who, when and why. */
export interface Quiesced {
  by: string;
  at: string;
  reason?: string;
}

/** What the log says besides the engine state; carried whole by a snapshot. */
export interface LogFacts {
  lastPolicyVersion?: string;
  quiesced: Record<string, Quiesced>;
  sealed: Record<string, LoggedState>;
}

export interface Replayed extends LogFacts {
  state: EngineState;
  /** Records read from the log (the tail after the snapshot, or all of them). */
  records: number;
}

/** Replay the log from `from` (default: the first record) onto `start` (default: an empty state). */
export function replayLog(walDir: string, start?: { state: EngineState; position: LogPosition; facts: LogFacts }): Replayed {
  const state = start?.state ?? emptyState();
  let lastPolicyVersion = start?.facts.lastPolicyVersion;
  // Keyed by names from the log: no prototype a name like `__proto__` could reach.
  const quiesced: Record<string, Quiesced> = Object.assign(Object.create(null), start?.facts.quiesced);
  const sealed: Record<string, LoggedState> = Object.assign(Object.create(null), start?.facts.sealed);
  let records = 0;
  for (const { record } of new LogFollower(walDir, start?.position).poll()) {
    records++;
    const agent = typeof record.agent_id === 'string' ? record.agent_id : undefined;
    switch (record.type) {
      case 'policy_applied': {
        if (typeof record.policy_version !== 'string') break;
        lastPolicyVersion = record.policy_version;
        // Phases are timed from when their policy was applied, or from when the same phases were
        // (a policy that changed something else keeps their clock).
        const applied = Date.parse(String(typeof record.phases_since === 'string' ? record.phases_since : record.time));
        if (Number.isFinite(applied)) state.policy_applied_ms = applied;
        break;
      }
      case 'agent_quiesced':
        if (agent === undefined) break;
        quiesced[agent] = {
          by: String(record.by),
          at: String(record.time),
          ...(typeof record.reason === 'string' ? { reason: record.reason } : {}),
        };
        break;
      case 'agent_resumed':
        if (agent !== undefined) delete quiesced[agent];
        break;
      case 'state_sealed':
        if (typeof record.file !== 'string' || typeof record.generation !== 'number') break;
        sealed[record.file] = {
          generation: record.generation,
          ...(typeof record.body_sha256 === 'string' ? { body_sha256: record.body_sha256 } : {}),
          seq: Number(record.seq),
        };
        break;
      case 'state_delta': {
        const ops = (record.delta as { ops?: unknown }).ops;
        if (Array.isArray(ops)) applyDelta(state, ops.filter(isDeltaOp));
        break;
      }
    }
  }
  return { state, ...(lastPolicyVersion ? { lastPolicyVersion } : {}), quiesced, sealed, records };
}

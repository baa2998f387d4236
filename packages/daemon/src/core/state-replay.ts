/**
 * Rebuilding what the daemon knows from its log on start: the engine state (rate buckets, budgets,
 * sessions), the last policy version applied and when. The log is the truth; the engine's deltas
 * hold absolute values, so replaying them in order is exact. A snapshot (see state-snapshot.ts)
 * lets the replay start near the end instead of at the first record.
 */
import { LogFollower, type LogPosition } from '@faramesh/audit';
import { applyDelta, emptyState, isDeltaOp, type EngineState } from '@faramesh/engine';

export interface Replayed {
  state: EngineState;
  lastPolicyVersion?: string;
  /** Records read from the log (the tail after the snapshot, or all of them). */
  records: number;
}

/** Replay the log from `from` (default: the first record) onto `start` (default: an empty state). */
export function replayLog(walDir: string, start?: { state: EngineState; position: LogPosition; lastPolicyVersion?: string }): Replayed {
  const state = start?.state ?? emptyState();
  let lastPolicyVersion = start?.lastPolicyVersion;
  let records = 0;
  for (const { record } of new LogFollower(walDir, start?.position).poll()) {
    records++;
    if (record.type === 'policy_applied' && typeof record.policy_version === 'string') {
      lastPolicyVersion = record.policy_version;
      // Phases are timed from when their policy was applied.
      const applied = Date.parse(String(record.time));
      if (Number.isFinite(applied)) state.policy_applied_ms = applied;
    }
    if (record.type !== 'state_delta') continue;
    const ops = (record.delta as { ops?: unknown }).ops;
    if (!Array.isArray(ops)) continue;
    applyDelta(state, ops.filter(isDeltaOp));
  }
  return { state, ...(lastPolicyVersion ? { lastPolicyVersion } : {}), records };
}

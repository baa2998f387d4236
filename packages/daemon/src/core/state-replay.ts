/**
 * Rebuilding what the daemon knows from its log on start: the engine state (rate buckets, budgets,
 * sessions) from the state deltas, and the last policy version applied. The log is the truth; the
 * engine's deltas hold absolute values, so replaying them in order is exact.
 */
import { LogFollower } from '@faramesh/audit';
import { applyDelta, emptyState, type DeltaOp, type EngineState } from '@faramesh/engine';

export interface Replayed {
  state: EngineState;
  lastPolicyVersion?: string;
  records: number;
}

const DELTA_KINDS = new Set(['bucket', 'budget', 'session', 'spawn']);

export function replayLog(walDir: string): Replayed {
  const state = emptyState();
  let lastPolicyVersion: string | undefined;
  let records = 0;
  for (const { record } of new LogFollower(walDir).poll()) {
    records++;
    if (record.type === 'policy_applied' && typeof record.policy_version === 'string') lastPolicyVersion = record.policy_version;
    if (record.type !== 'state_delta') continue;
    const ops = (record.delta as { ops?: unknown }).ops;
    if (!Array.isArray(ops)) continue;
    applyDelta(
      state,
      ops.filter((op): op is DeltaOp => typeof op === 'object' && op !== null && DELTA_KINDS.has((op as { kind?: string }).kind ?? '')),
    );
  }
  return { state, ...(lastPolicyVersion ? { lastPolicyVersion } : {}), records };
}

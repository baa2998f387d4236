import type { RateLimitIR } from '@faramesh/fpl/runtime';
import type { Bucket, DeltaOp, EngineState } from '../state.js';
import { key } from '../state.js';

export interface RateLimitResult {
  exceeded?: { limit: RateLimitIR; retryAfterSeconds: number };
  delta: DeltaOp[];
}

/**
 * Token buckets per (agent, pattern): capacity `limit`, refilled at `limit` per window. Every
 * limit whose pattern matches the tool applies; the call passes only if each has a token, and
 * then takes one from each.
 */
export function checkRateLimits(agentId: string, limits: readonly RateLimitIR[], state: EngineState, nowMs: number): RateLimitResult {
  const delta: DeltaOp[] = [];
  let exceeded: RateLimitResult['exceeded'];
  for (const limit of limits) {
    const k = bucketKey(agentId, limit, limits);
    const bucket = refill(state.buckets[k] ?? legacyBucket(agentId, limit, limits, state), limit, nowMs);
    if (bucket.tokens < 1) {
      // Every empty bucket is looked at: the retry hint is the wait until each has a token again,
      // not the first one's (`1 per second` beside an empty `100 per day` is no 1 s wait).
      const perSecond = limit.limit / limit.window_s;
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
      if (!exceeded || retryAfterSeconds > exceeded.retryAfterSeconds) exceeded = { limit, retryAfterSeconds };
      continue;
    }
    delta.push({ kind: 'bucket', key: k, tokens: bucket.tokens - 1, updated_ms: nowMs });
  }
  return exceeded ? { exceeded, delta: [] } : { delta };
}

/**
 * A bucket per (agent, pattern, window), and per limit too when one pattern carries several in the
 * same window. Keyed by the window, so that a second limit on a pattern (`10 per minute` beside
 * `1000 per day`) neither shares the first's bucket (a shared bucket would be reset to the looser
 * limit's count on every call, and the tighter limit would never bind) nor moves it to a new, full
 * one when a policy adds or drops the other: a hot swap keeps what the calls already took. A new
 * count in the same window (`2 per hour` made `3 per hour`) keeps the bucket too; its refill is
 * capped at the new count.
 */
function bucketKey(agentId: string, limit: RateLimitIR, limits: readonly RateLimitIR[]): string {
  const sameWindow = limits.some((l) => l !== limit && l.pattern === limit.pattern && l.window_s === limit.window_s);
  return key(agentId, limit.pattern, sameWindow ? `${limit.limit}/${limit.window_s}` : `per ${limit.window_s}`);
}

/** The bucket of a state written before buckets were keyed by window: a pattern's only limit had `agent, pattern`. */
function legacyBucket(agentId: string, limit: RateLimitIR, limits: readonly RateLimitIR[], state: EngineState): Bucket | undefined {
  if (limits.some((l) => l !== limit && l.pattern === limit.pattern)) return undefined;
  const k = key(agentId, limit.pattern);
  return Object.hasOwn(state.buckets, k) ? state.buckets[k] : undefined;
}

function refill(bucket: Bucket | undefined, limit: RateLimitIR, nowMs: number): Bucket {
  if (!bucket) return { tokens: limit.limit, updated_ms: nowMs };
  const elapsed = Math.max(0, nowMs - bucket.updated_ms) / 1000;
  return { tokens: Math.min(limit.limit, bucket.tokens + (elapsed * limit.limit) / limit.window_s), updated_ms: nowMs };
}

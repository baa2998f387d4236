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
  for (const limit of limits) {
    const k = bucketKey(agentId, limit, limits);
    const bucket = refill(state.buckets[k], limit, nowMs);
    if (bucket.tokens < 1) {
      const perSecond = limit.limit / limit.window_s;
      return { exceeded: { limit, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) }, delta: [] };
    }
    delta.push({ kind: 'bucket', key: k, tokens: bucket.tokens - 1, updated_ms: nowMs });
  }
  return { delta };
}

/**
 * A bucket per (agent, pattern) — and per limit when one pattern carries several (`10 per minute`
 * and `1000 per day`): a shared bucket would be reset to the looser limit's count on every call, so
 * the tighter limit would never bind.
 */
function bucketKey(agentId: string, limit: RateLimitIR, limits: readonly RateLimitIR[]): string {
  const shared = limits.some((l) => l !== limit && l.pattern === limit.pattern);
  return shared ? key(agentId, limit.pattern, `${limit.limit}/${limit.window_s}`) : key(agentId, limit.pattern);
}

function refill(bucket: Bucket | undefined, limit: RateLimitIR, nowMs: number): Bucket {
  if (!bucket) return { tokens: limit.limit, updated_ms: nowMs };
  const elapsed = Math.max(0, nowMs - bucket.updated_ms) / 1000;
  return { tokens: Math.min(limit.limit, bucket.tokens + (elapsed * limit.limit) / limit.window_s), updated_ms: nowMs };
}

/**
 * What the daemon speaks: the `govern` request and its result, the same over the Unix socket
 * (JSON-RPC) and over HTTP (`POST /v1/evaluate`). Effects are only PERMIT, DENY or DEFER.
 */

export interface GovernRequest {
  agent_id: string;
  /** The policy's tool id (`stripe/refund`). */
  tool_id: string;
  args: Record<string, unknown>;
  call_id: string;
  session_id?: string;
  request_id?: string;
  tags?: string[];
  principal?: Record<string, unknown>;
  principal_token?: string;
  delegation_token?: string;
}

export type WireResolution =
  | { type: 'pending_approval'; approval_id: string }
  | { type: 'retry_after'; retry_after_seconds: number }
  | { type: 'budget_reset'; resets_at?: string }
  | { type: 'rule_block'; rule_id: string }
  | { type: 'pending_approvals'; approval_ids: string[] }
  | { type: 'manual_audit' };

export interface WireDenial {
  code: string;
  human_message: string;
  resolution: WireResolution;
  rule_ref?: string;
  budget_id?: string;
  /** CREDENTIAL_UNAVAILABLE: the provider that could not supply the credential. */
  provider?: string;
}

export interface GovernResult {
  call_id?: string;
  action_id?: string;
  effect: 'PERMIT' | 'DENY' | 'DEFER';
  reason_code?: string;
  rule_ref?: string;
  defer_token?: string;
  delegation_token?: string;
  structured_denial?: WireDenial;
  /** Soft signals that did not change the effect: `{ code: 'BUDGET_WARNING', budget_id, human_message }`. */
  signals?: { code: string; budget_id: string; human_message: string }[];
  /** A credential the daemon brokered for this one call. */
  credential?: { value: string; header: string; expires_at: string };
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'unknown';

export interface Transport {
  /** One decision. Rejects with a TransportError when the daemon cannot be reached or answers nonsense. */
  govern(request: GovernRequest, timeoutMs: number): Promise<GovernResult>;
  /** Where a deferred call's approval stands. */
  poll(approvalId: string, agentId: string, timeoutMs: number): Promise<ApprovalStatus>;
  /** `count` children the agent spawned have ended: how many the daemon marked ended, and how many stay live. */
  spawnEnded?(agentId: string, count: number, timeoutMs: number): Promise<SpawnEnded>;
}

export interface SpawnEnded {
  ended: number;
  live: number;
}

/** The daemon could not be asked (`unreachable`: not there at all, what `failOpen` is about), or its answer made no sense. */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    message: string,
    readonly unreachable: boolean,
    /** The request did reach the daemon once (on a connection that then closed unanswered): it may have been decided. */
    readonly delivered = false,
    /** The daemon refused the request as it stands (malformed, or not this caller's to make): sending it again cannot help. */
    readonly refused = false,
    /** How long the daemon asked callers to wait before asking again (an HTTP `retry-after`), when it said. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  /** The same error, now known to have reached the daemon once. */
  asDelivered(): TransportError {
    return new TransportError(this.message, this.unreachable, true, this.refused, this.retryAfterSeconds);
  }
}

/** No daemon is configured at all: a mistake in the deployment, which `failOpen` never opens. */
export class NoTransportError extends TransportError {
  override name = 'NoTransportError';
  constructor(message: string) {
    super(message, true);
  }
}

/** A result the SDK can act on, or a TransportError. */
export function checkResult(value: unknown): GovernResult {
  const r = value as GovernResult | undefined;
  if (!r || typeof r !== 'object' || !['PERMIT', 'DENY', 'DEFER'].includes(r.effect)) {
    // Named by its shape, never quoted: the reply may carry a brokered credential, and this message
    // reaches the model (a framework tool's denial result) and the agent's logs.
    const what =
      r && typeof r === 'object' && !Array.isArray(r)
        ? `effect ${'effect' in r ? JSON.stringify(r.effect)?.slice(0, 40) : 'missing'}`
        : Array.isArray(r)
          ? 'an array'
          : r === null
            ? 'null'
            : `a ${typeof r}`;
    throw new TransportError(`the daemon's reply is not a decision (${what})`, false);
  }
  return r;
}

/** A `spawn_ended` answer, checked. */
export function spawnCounts(value: unknown): SpawnEnded {
  const v = value as Partial<SpawnEnded> | null;
  if (typeof v !== 'object' || v === null || !Number.isInteger(v.ended) || !Number.isInteger(v.live))
    throw new TransportError('the daemon answered spawn_ended with something that is not {ended, live}', false);
  return { ended: v.ended!, live: v.live! };
}

/** Structured denial codes, as documented in errors.md. */
export const DENIAL_CODES = [
  'POLICY_DENY',
  'POLICY_DEFER',
  'RATE_EXCEEDED',
  'BUDGET_EXCEEDED',
  'BUDGET_WARNING',
  'DAEMON_NOT_READY',
  'COMPLETION_BLOCKED',
  'EGRESS_DENIED',
  'MODEL_DENIED',
  'CREDENTIAL_UNAVAILABLE',
  'RUNTIME_GAP',
  /** The daemon cannot make its audit record durable: every call is denied until the log recovers. */
  'AUDIT_UNAVAILABLE',
  /** The call's principal_token did not verify against the stack's identity providers. */
  'IDENTITY_UNVERIFIED',
] as const;
export type DenialCode = (typeof DENIAL_CODES)[number];

/** What the agent (or its SDK) should do next. A discriminated union on `type`. */
export type Resolution =
  | { type: 'rule_block'; rule_id: string }
  | { type: 'pending_approval'; approval_id: string }
  | { type: 'retry_after'; retry_after_seconds: number }
  /** `resets_at` is absent for a session budget: it resets when the session ends. */
  | { type: 'budget_reset'; resets_at?: string }
  | { type: 'pending_approvals'; approval_ids: string[] }
  | { type: 'manual_audit' };

export interface StructuredDenial {
  code: DenialCode;
  human_message: string;
  resolution: Resolution;
  rule_ref?: string;
  budget_id?: string;
  provider?: string;
}

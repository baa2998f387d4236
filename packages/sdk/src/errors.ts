/**
 * ToolDeniedError: a tool call the daemon did not permit (denied, or deferred for a human), with the
 * structured denial in the SDK's own casing. `resolution` narrows on `type`.
 */
import type { GovernResult, WireResolution } from './wire.js';

export type Resolution =
  | { type: 'pending_approval'; approvalId: string }
  | { type: 'retry_after'; retryAfterSeconds: number }
  | { type: 'budget_reset'; resetsAt?: string }
  | { type: 'rule_block'; ruleId: string }
  | { type: 'pending_approvals'; approvalIds: string[] }
  | { type: 'manual_audit' };

export interface DenialFields {
  code: string;
  humanMessage: string;
  resolution: Resolution;
  effect: 'DENY' | 'DEFER';
  toolId: string;
  ruleRef?: string;
  approvalId?: string;
  actionId?: string;
  budgetId?: string;
  /** CREDENTIAL_UNAVAILABLE: the credential provider that failed (errors.md's `provider`). */
  provider?: string;
}

export class ToolDeniedError extends Error implements DenialFields {
  override name = 'ToolDeniedError';
  readonly code: string;
  readonly humanMessage: string;
  readonly resolution: Resolution;
  readonly effect: 'DENY' | 'DEFER';
  readonly toolId: string;
  readonly ruleRef?: string;
  readonly approvalId?: string;
  readonly actionId?: string;
  readonly budgetId?: string;
  readonly provider?: string;

  constructor(f: DenialFields) {
    super(`${f.toolId}: ${f.humanMessage} (${f.code})`);
    this.code = f.code;
    this.humanMessage = f.humanMessage;
    this.resolution = f.resolution;
    this.effect = f.effect;
    this.toolId = f.toolId;
    if (f.ruleRef !== undefined) this.ruleRef = f.ruleRef;
    if (f.approvalId !== undefined) this.approvalId = f.approvalId;
    if (f.actionId !== undefined) this.actionId = f.actionId;
    if (f.budgetId !== undefined) this.budgetId = f.budgetId;
    if (f.provider !== undefined) this.provider = f.provider;
  }

  /** The Python SDK's names for the same fields (the reference's debugging guide reads them). */
  get reason(): string {
    return this.humanMessage;
  }
  /** The id `faramesh explain decision` takes: the decision's action id. */
  get denialToken(): string | undefined {
    return this.actionId;
  }
  /** A deferral's approval id. */
  get deferToken(): string | undefined {
    return this.approvalId;
  }

  /** What a model loop is shown: the denial, structured, so it can react (apologise, wait, ask). */
  toJSON(): Record<string, unknown> {
    return {
      denied: true,
      effect: this.effect,
      tool: this.toolId,
      code: this.code,
      message: this.humanMessage,
      resolution: this.resolution,
      ...(this.ruleRef ? { ruleRef: this.ruleRef } : {}),
      ...(this.approvalId ? { approvalId: this.approvalId } : {}),
      ...(this.actionId ? { actionId: this.actionId } : {}),
    };
  }
}

export function resolutionOf(r: WireResolution | undefined): Resolution {
  switch (r?.type) {
    case 'pending_approval':
      return { type: r.type, approvalId: r.approval_id };
    case 'retry_after':
      return { type: r.type, retryAfterSeconds: r.retry_after_seconds };
    case 'budget_reset':
      return r.resets_at ? { type: r.type, resetsAt: r.resets_at } : { type: r.type };
    case 'rule_block':
      return { type: r.type, ruleId: r.rule_id };
    case 'pending_approvals':
      return { type: r.type, approvalIds: r.approval_ids };
    default:
      return { type: 'manual_audit' };
  }
}

/** The error for a DENY or DEFER result. */
export function deniedBy(result: GovernResult, toolId: string): ToolDeniedError {
  const d = result.structured_denial;
  const resolution = resolutionOf(d?.resolution);
  const approvalId = result.defer_token ?? (resolution.type === 'pending_approval' ? resolution.approvalId : undefined);
  return new ToolDeniedError({
    code: d?.code ?? result.reason_code ?? (result.effect === 'DEFER' ? 'POLICY_DEFER' : 'POLICY_DENY'),
    humanMessage: d?.human_message ?? `${toolId} ${result.effect === 'DEFER' ? 'deferred for approval' : 'denied'}`,
    resolution,
    effect: result.effect === 'DEFER' ? 'DEFER' : 'DENY',
    toolId,
    ...((d?.rule_ref ?? result.rule_ref) ? { ruleRef: d?.rule_ref ?? result.rule_ref } : {}),
    ...(approvalId ? { approvalId } : {}),
    ...(result.action_id ? { actionId: result.action_id } : {}),
    ...(d?.budget_id ? { budgetId: d.budget_id } : {}),
    ...(typeof d?.provider === 'string' && d.provider ? { provider: d.provider } : {}),
  });
}

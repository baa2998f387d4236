/**
 * StubTransport: decisions from a table instead of a daemon, for an application's own unit tests.
 * A tool missing from the table is denied, as a real default-deny policy would.
 */
import type { ApprovalStatus, GovernRequest, GovernResult, Transport } from '../wire.js';

export type StubDecision =
  | 'permit'
  | 'deny'
  | 'defer'
  | { effect: 'permit' | 'deny' | 'defer'; code?: string; humanMessage?: string; ruleRef?: string; approvalStatus?: ApprovalStatus };

export class StubTransport implements Transport {
  /** Every request it was asked, in order. */
  readonly calls: GovernRequest[] = [];
  private approvals = new Map<string, ApprovalStatus>();
  private n = 0;

  constructor(private readonly table: Record<string, StubDecision>) {}

  /** Resolve a deferred call, as an operator would. */
  setApproval(approvalId: string, status: ApprovalStatus): void {
    this.approvals.set(approvalId, status);
  }

  govern(request: GovernRequest): Promise<GovernResult> {
    this.calls.push(request);
    const entry = this.table[request.tool_id] ?? { effect: 'deny', humanMessage: `no stub decision for ${request.tool_id}` };
    const d = typeof entry === 'string' ? { effect: entry } : entry;
    const actionId = `action-stub-${++this.n}`;
    if (d.effect === 'permit') return Promise.resolve({ effect: 'PERMIT', action_id: actionId });
    if (d.effect === 'deny')
      return Promise.resolve({
        effect: 'DENY',
        action_id: actionId,
        structured_denial: {
          code: d.code ?? 'POLICY_DENY',
          human_message: d.humanMessage ?? `${request.tool_id} denied`,
          resolution: { type: 'rule_block', rule_id: d.ruleRef ?? 'stub' },
          ...(d.ruleRef ? { rule_ref: d.ruleRef } : {}),
        },
      });
    const approvalId = `apr-stub-${this.n}`;
    if (d.approvalStatus) this.approvals.set(approvalId, d.approvalStatus);
    return Promise.resolve({
      effect: 'DEFER',
      action_id: actionId,
      defer_token: approvalId,
      structured_denial: {
        code: d.code ?? 'POLICY_DEFER',
        human_message: d.humanMessage ?? `${request.tool_id} deferred for approval`,
        resolution: { type: 'pending_approval', approval_id: approvalId },
      },
    });
  }

  poll(approvalId: string): Promise<ApprovalStatus> {
    return Promise.resolve(this.approvals.get(approvalId) ?? 'pending');
  }
}

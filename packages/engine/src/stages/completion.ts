/**
 * `completion_gate`: an agent marking its task complete (`action_type: "completion_event"`) is
 * refused with COMPLETION_BLOCKED while a required condition fails — so deferred work cannot be
 * left behind silently. The daemon supplies the facts only it holds (its approvals); the gate
 * itself is pure.
 */
import type { AgentIR } from '@faramesh/fpl/runtime';
import type { Decision, DecisionRequest } from '@faramesh/protocol';
import type { EngineState } from '../state.js';
import { budgetsAtLimit } from './budget.js';

export interface CompletionFacts {
  /** The agent's approvals still waiting for an operator. */
  pending: string[];
  /** Approved calls the agent has not run yet: writes it was allowed to make and has not made. */
  unrun: string[];
  /** Work started by permitted calls and not finished: MCP tasks of tools not marked read-only. */
  openTasks?: string[];
}

export function checkCompletion(
  agent: AgentIR,
  request: DecisionRequest,
  state: EngineState,
  facts: CompletionFacts,
  nowMs: number,
): Decision {
  const base = { signals: [], alerts: [], redacted_args: {} };
  const gate = agent.completion_gate;
  if (!gate) return { effect: 'PERMIT', ...base };
  const reasons: string[] = [];
  const approvalIds: string[] = [];
  let resetsAt: string | undefined;
  let budgetFull = false;
  /** A full budget that no midnight empties (a session's own ceiling): then no resets_at at all. */
  let neverResets = false;
  for (const condition of gate.require) {
    if (condition === 'no_pending_approvals' && facts.pending.length > 0) {
      reasons.push(`${facts.pending.length} approval${facts.pending.length === 1 ? '' : 's'} pending`);
      approvalIds.push(...facts.pending);
    }
    if (condition === 'no_uncommitted_writes' && facts.unrun.length > 0) {
      reasons.push(`${facts.unrun.length} approved call${facts.unrun.length === 1 ? '' : 's'} not yet run`);
      approvalIds.push(...facts.unrun);
    }
    const open = facts.openTasks ?? [];
    if (condition === 'no_uncommitted_writes' && open.length > 0)
      reasons.push(`${open.length} task${open.length === 1 ? '' : 's'} still running (${open.join(', ')})`);
    if (condition === 'budget_under_limit')
      for (const full of budgetsAtLimit(request.agent_id, agent.budgets, state, nowMs, request.session_id)) {
        reasons.push(full.message);
        budgetFull = true;
        resetsAt ??= full.resetsAt;
        if (full.resetsAt === undefined) neverResets = true;
      }
  }
  if (reasons.length === 0) return { effect: 'PERMIT', ...base };
  return {
    effect: 'DENY',
    code: 'COMPLETION_BLOCKED',
    rule_ref: gate.ref,
    human_message: `agent cannot complete: ${reasons.join('; ')}`,
    resolution:
      approvalIds.length > 0 || !budgetFull
        ? { type: 'pending_approvals', approval_ids: approvalIds }
        : // A used-up session budget does not reset at midnight: no resets_at (as for BUDGET_EXCEEDED).
          { type: 'budget_reset', ...(resetsAt && !neverResets ? { resets_at: resetsAt } : {}) },
    ...base,
  };
}

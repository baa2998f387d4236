/**
 * Approvals across the log: a decision permitted by an approval must follow the `approval_resolved`
 * record that granted it, name the same operator, and be the only decision to spend it (an approval
 * permits one call).
 */
import type { ApprovalEvent } from './scan.js';

export class ApprovalLedger {
  /** Granted approvals: who granted each, and whether a decision has spent it. */
  private readonly granted = new Map<string, { by: string; spent: boolean }>();

  /** Account for one event in log order; what is wrong with it, if anything. */
  take(event: ApprovalEvent): string | undefined {
    const seen = this.granted.get(event.id);
    if (event.grant) {
      if (!seen) this.granted.set(event.id, { by: event.by, spent: false });
      return undefined;
    }
    if (!seen) return `no approval_resolved record before this decision approves ${event.id}`;
    if (seen.by !== event.by) return `approved_by says ${event.by}, but ${event.id} was approved by ${seen.by}`;
    if (seen.spent) return `${event.id} was already spent: an approval permits one call`;
    seen.spent = true;
    return undefined;
  }

  /** Whether a run's events, in order, would all be taken without a problem (nothing is changed). */
  accepts(events: readonly ApprovalEvent[]): boolean {
    const local = new Map<string, { by: string; spent: boolean }>();
    for (const e of events) {
      const seen = local.get(e.id) ?? this.granted.get(e.id);
      if (e.grant) {
        if (!seen) local.set(e.id, { by: e.by, spent: false });
        continue;
      }
      if (!seen || seen.by !== e.by || seen.spent) return false;
      local.set(e.id, { by: seen.by, spent: true });
    }
    return true;
  }
}

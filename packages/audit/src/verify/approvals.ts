/**
 * Approvals across the log: a decision permitted by an approval must follow the `approval_resolved`
 * record that granted it, name the same operator, and be the only decision to spend it (an approval
 * permits one call).
 */
import type { ApprovalEvent } from './scan.js';

export interface Granted {
  by: string;
  spent: boolean;
}

export class ApprovalLedger {
  /** Granted approvals: who granted each, and whether a decision has spent it. */
  private readonly granted = new Map<string, Granted>();

  /** Account for one event in log order; what is wrong with it, if anything (then nothing changes). */
  take(event: ApprovalEvent): string | undefined {
    const seen = this.granted.get(event.id);
    const wrong = verdict(seen, event);
    if (!wrong) this.granted.set(event.id, after(seen, event));
    return wrong;
  }

  /** Every approval granted so far: what a compacted log's base carries. */
  entries(): Record<string, Granted> {
    return Object.fromEntries([...this.granted].map(([id, g]) => [id, { ...g }]));
  }

  /** Start from what a compacted log's base carries. */
  seed(entries: Record<string, Granted>): void {
    for (const [id, g] of Object.entries(entries)) this.granted.set(id, { by: g.by, spent: g.spent });
  }

  /** Whether a run's events, in order, would all be taken without a problem (nothing is changed). */
  accepts(events: readonly ApprovalEvent[]): boolean {
    const local = new Map<string, Granted>();
    for (const e of events) {
      const seen = local.get(e.id) ?? this.granted.get(e.id);
      if (verdict(seen, e)) return false;
      local.set(e.id, after(seen, e));
    }
    return true;
  }
}

/** What is wrong with an event, given what the log granted before it. */
function verdict(seen: Granted | undefined, e: ApprovalEvent): string | undefined {
  if (e.grant) return undefined;
  if (!seen) return `no approval_resolved record before this decision approves ${e.id}`;
  if (seen.by !== e.by) return `approved_by says ${e.by}, but ${e.id} was approved by ${seen.by}`;
  if (seen.spent) return `${e.id} was already spent: an approval permits one call`;
  return undefined;
}

/** The approval after an event that was not wrong (a repeated grant changes nothing). */
const after = (seen: Granted | undefined, e: ApprovalEvent): Granted =>
  e.grant ? (seen ?? { by: e.by, spent: false }) : { by: seen!.by, spent: true };

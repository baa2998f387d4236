/** `/metrics`: the daemon's counters in the Prometheus text exposition format (version 0.0.4). */
import type { LifecycleState } from '../lifecycle.js';

/** Decision latency, in seconds, with cumulative buckets as Prometheus expects. */
export class LatencyHistogram {
  static readonly BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];
  readonly counts = new Array<number>(LatencyHistogram.BOUNDS.length).fill(0);
  count = 0;
  sum = 0;

  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    const i = LatencyHistogram.BOUNDS.findIndex((b) => seconds <= b);
    if (i >= 0) this.counts[i]!++;
  }
}

export interface MetricsSnapshot {
  state: LifecycleState;
  decisions: { permit: number; deny: number; defer: number };
  /** Of `decisions`, those audit mode did not enforce. */
  notEnforced: { deny: number; defer: number };
  latency: LatencyHistogram;
  pendingApprovals: number;
  logRecords: number;
  degraded: boolean;
  uptimeSeconds: number;
}

const STATES: LifecycleState[] = ['STARTING', 'INITIALIZING', 'READY', 'DRAINING', 'HALT'];

export function metricsText(m: MetricsSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  metric(
    'faramesh_decisions_total',
    'counter',
    'Decisions recorded, by effect.',
    (['permit', 'deny', 'defer'] as const).map((e) => [`{effect="${e}"}`, m.decisions[e]]),
  );
  // A dashboard counting blocks subtracts these: under `runtime { mode = "audit" }` a deny still ran.
  metric(
    'faramesh_decisions_not_enforced_total',
    'counter',
    'Denials and deferrals recorded under runtime { mode = "audit" }: the call was let through.',
    (['deny', 'defer'] as const).map((e) => [`{effect="${e}"}`, m.notEnforced[e]]),
  );
  let cumulative = 0;
  const buckets: [string, number][] = LatencyHistogram.BOUNDS.map((b, i) => [`_bucket{le="${b}"}`, (cumulative += m.latency.counts[i]!)]);
  buckets.push(['_bucket{le="+Inf"}', m.latency.count], ['_sum', m.latency.sum], ['_count', m.latency.count]);
  lines.push(
    '# HELP faramesh_decision_seconds Time from request to durable record, per decision.',
    '# TYPE faramesh_decision_seconds histogram',
  );
  for (const [suffix, value] of buckets) lines.push(`faramesh_decision_seconds${suffix} ${value}`);
  metric(
    'faramesh_lifecycle_state',
    'gauge',
    'The lifecycle state (1 for the current one).',
    STATES.map((s) => [`{state="${s}"}`, s === m.state ? 1 : 0]),
  );
  metric('faramesh_approvals_pending', 'gauge', 'Deferred calls waiting for an operator.', [['', m.pendingApprovals]]);
  metric('faramesh_log_records', 'gauge', 'Records in the audit log.', [['', m.logRecords]]);
  metric('faramesh_degraded', 'gauge', '1 while the audit log cannot record and every call is denied.', [['', m.degraded ? 1 : 0]]);
  metric('faramesh_uptime_seconds', 'gauge', 'Seconds since the daemon started.', [['', Math.floor(m.uptimeSeconds)]]);
  return `${lines.join('\n')}\n`;
}

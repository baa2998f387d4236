/**
 * faramesh explain run <correlation-id>: one task's decisions as a timeline — when each call came
 * (from the first), what was decided and by which rule, which approvals its deferrals are waiting on
 * or how they were resolved — with the identities, the total cost and the open approvals. The
 * records are those `audit trace` prints; argument values are not in the log.
 */
import { checkFields, type DecisionRecord } from '@faramesh/audit';
import { makeOut, plural } from '../../output.js';
import { walDir, type AuditPathOptions } from '../audit/paths.js';
import { collectRun, matchedLine, type RunRecords } from '../audit/trace.js';
import { inline } from '../../output.js';
import { NOT_ENFORCED, notEnforced } from '../audit/render.js';
import { decidedWithoutRule } from './decision.js';

export interface ExplainRunOptions extends AuditPathOptions {
  format?: 'text' | 'json';
  noColor?: boolean;
}

type Outcome = 'pending' | 'approved' | 'denied' | 'expired';

interface Step {
  action_id: string;
  time: string;
  offset_s: number;
  agent_id: string;
  tool: string;
  effect: DecisionRecord['effect'];
  /** False for a deny or defer under `mode = "audit"`: the agent was told PERMIT and the call ran. */
  enforced: boolean;
  code: string | null;
  rule_ref: string | null;
  /** Without a rule: the default, or the check that refused it. */
  decided_by: string;
  /** Why it was denied (an operator's denial of a deferred call says who denied it). */
  message: string | null;
  /** The approval this deferral waits on, and what became of it. */
  approval: { id: string; outcome: Outcome; by?: string } | null;
  /** The approval this call ran under (the identical call after an operator approved it). */
  ran_under: string | null;
}

interface RunSummary {
  run: string;
  matched: RunRecords['matched'];
  duration_s: number;
  decisions: Step[];
  agents: { id: string; svid: string | null }[];
  total_cost_usd: number;
  approvals: Record<Outcome, string[]>;
}

export function explainRun(id: string, o: ExplainRunOptions): number {
  const out = makeOut(o.noColor);
  const dir = walDir(o);
  let run: RunRecords;
  try {
    run = collectRun(o, id);
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  if (run.records.length === 0) {
    out.error(out.fail(`no decision in ${dir} has request_id or session_id '${id}' (the SDKs send requestId; see docs/daemon.md)`));
    return 1;
  }
  // Read back from disk: summarise them only once each has the shape of its type.
  for (const r of run.records) {
    const malformed = checkFields(r.record as Record<string, unknown>)[0];
    if (malformed) {
      out.error(out.fail(`record ${r.seq} of the run is malformed: '${malformed.field}' ${malformed.reason} (faramesh audit verify)`));
      return 1;
    }
  }
  const s = summarise(run);
  if (o.format === 'json') {
    out.print(JSON.stringify(s, null, 2));
    return 0;
  }
  const title = `Run ${inline(id)} (${plural(s.decisions.length, 'decision')}, ${s.duration_s.toFixed(3)}s total)`;
  out.print([title, '─'.repeat(title.length)].join('\n'));
  const toolWidth = Math.max(...s.decisions.map((d) => inline(d.tool).length));
  const several = s.agents.length > 1;
  for (const d of s.decisions) {
    const why = [d.code, d.rule_ref ?? d.decided_by, d.message ? `— ${d.message}` : ''].filter(Boolean).join(' ');
    const approval = d.approval
      ? ` → ${d.approval.id} ${d.approval.outcome}${d.approval.by && d.approval.outcome !== 'expired' ? ` by ${d.approval.by}` : ''}`
      : d.ran_under
        ? ` (under ${d.ran_under})`
        : '';
    out.print(
      `[+${d.offset_s.toFixed(3)}s]  ${d.effect.padEnd(6)}  ${several ? `${inline(d.agent_id)}: ` : ''}${inline(d.tool).padEnd(toolWidth)}  ${d.enforced ? '' : `${NOT_ENFORCED}  `}${inline(why)}${inline(approval)}`,
    );
  }
  out.print('');
  const rows: [string, string][] = [
    ['Identity', s.agents.map((a) => (a.svid ? `${a.id} (${a.svid})` : a.id)).join(', ')],
    ['Total cost', `$${s.total_cost_usd.toFixed(4)}`],
    ['Approvals', approvalsLine(s.approvals)],
    ['Matched', matchedLine(run).replace(/^Run \S+: /, '')],
  ];
  for (const [k, v] of rows) out.print(`${`${k}:`.padEnd(12)}${inline(v)}`);
  out.print(`\nArgument values are never logged: faramesh explain decision <action-id> shows one call in full.`);
  return 0;
}

function summarise(run: RunRecords): RunSummary {
  const resolved = new Map<string, { outcome: Outcome; by: string }>();
  for (const { record: r } of run.records)
    if (r.type === 'approval_resolved') resolved.set(String(r.approval_id), { outcome: r.outcome as Outcome, by: String(r.by) });
  const decisions = run.records.map((r) => r.record).filter((r) => r.type === 'decision') as unknown as DecisionRecord[];
  const start = Date.parse(decisions[0]!.time);
  const agents = new Map<string, string | null>();
  const approvals: Record<Outcome, string[]> = { pending: [], approved: [], denied: [], expired: [] };
  let cost = 0;
  const steps = decisions.map((d): Step => {
    if (!agents.get(d.agent_id)) agents.set(d.agent_id, d.agent_svid ?? null);
    cost += d.cost?.usd ?? 0;
    const waiting = d.effect === 'defer' ? approvalOf(d) : undefined;
    let approval: Step['approval'] = null;
    if (waiting) {
      const r = resolved.get(waiting);
      approval = { id: waiting, outcome: r?.outcome ?? 'pending', ...(r ? { by: r.by } : {}) };
      // A call retried while its approval waits joins the same one: counted once.
      if (!approvals[approval.outcome].includes(waiting)) approvals[approval.outcome].push(waiting);
    }
    return {
      action_id: `action-${d.id}`,
      time: d.time,
      offset_s: (Date.parse(d.time) - start) / 1000,
      agent_id: d.agent_id,
      tool: d.tool,
      effect: d.effect,
      enforced: !notEnforced(d as unknown as Record<string, unknown>),
      code: d.code ?? null,
      rule_ref: d.rule_ref ?? null,
      decided_by: d.rule_ref ?? decidedWithoutRule(d),
      message: d.effect === 'deny' ? (d.denial?.human_message ?? null) : null,
      approval,
      ran_under: d.approval?.id ?? null,
    };
  });
  return {
    run: run.id,
    matched: run.matched,
    duration_s: steps.at(-1)!.offset_s,
    decisions: steps,
    agents: [...agents].map(([id, svid]) => ({ id, svid })),
    total_cost_usd: cost,
    approvals,
  };
}

/** The approval a deferred call's denial names. */
function approvalOf(d: DecisionRecord): string | undefined {
  const r = d.denial?.resolution as { type?: string; approval_id?: unknown } | undefined;
  return r?.type === 'pending_approval' && typeof r.approval_id === 'string' ? r.approval_id : undefined;
}

function approvalsLine(a: Record<Outcome, string[]>): string {
  const parts = (Object.entries(a) as [Outcome, string[]][])
    .filter(([, ids]) => ids.length > 0)
    .map(([outcome, ids]) => `${ids.length} ${outcome}${outcome === 'pending' ? ` (${ids.join(', ')})` : ''}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

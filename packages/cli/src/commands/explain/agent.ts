/**
 * faramesh explain agent <id>: what one agent of the policy in force may do (its rules in order,
 * limits, budgets, credentials) and, when the daemon runs, how it stands now: quiesced or not, its
 * decisions since the daemon started, pending approvals, budget spent.
 */
import { operatorCall, stackPaths } from '@faramesh/daemon/client';
import type { BudgetUsage } from '@faramesh/engine';
import { makeOut } from '../../output.js';
import { ruleText } from '../../rule-text.js';
import { phaseLine } from '../daemon/phases.js';
import { daemonStatus } from '../daemon/running.js';
import { requirePolicyInForce } from '../daemon/policy-in-force.js';

export interface ExplainAgentOptions {
  dir: string;
  format?: 'text' | 'json';
  noColor?: boolean;
}

interface Standing {
  id: string;
  state: string;
  quiesced?: { by: string; at: string; reason?: string };
  decisions: { permit: number; deny: number; defer: number };
  pending_approvals: number;
}

export async function explainAgent(id: string, o: ExplainAgentOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const paths = stackPaths(o.dir);
  const inForce = await requirePolicyInForce(paths, out);
  if (!inForce) return 1;
  const agent = inForce.ir.agents.find((a) => a.id === id);
  if (!agent) {
    const known = inForce.ir.agents.map((a) => a.id).join(', ') || 'none';
    out.error(out.fail(`no agent '${id}' in the policy in force (agents: ${known})`));
    return 1;
  }
  const status = inForce.source === 'running' ? await daemonStatus(paths).catch(() => undefined) : undefined;
  const standing = status
    ? (await operatorCall<{ agents: Standing[] }>(paths.operatorSocket, 'agents.list').catch(() => ({ agents: [] }))).agents.find(
        (a) => a.id === id,
      )
    : undefined;
  const budgets: BudgetUsage[] = status?.budgets.filter((b) => b.agent === id) ?? [];
  // Only the running daemon knows where a phase stands (its clock, from when the phases were
  // applied). An active phase's rules are tried first; the others decide nothing now, so they are
  // shown apart rather than numbered among the rules in force. An older daemon reports no phases.
  const reported = status?.phases?.filter((p) => p.agent === id);
  const phases = agent.phases.map((p) => {
    const known = reported?.find((r) => r.name === p.name);
    return {
      name: p.name,
      state: known?.state ?? ('unknown' as const),
      ...(p.next !== undefined ? { next: p.next } : {}),
      ...(known?.starts_at ? { starts_at: known.starts_at } : {}),
      ...(known?.ends_at ? { ends_at: known.ends_at } : {}),
      rules: p.rules.map((r) => ({ ref: r.ref, text: ruleText(r) })),
    };
  });
  const active = phases.find((p) => p.state === 'active');
  const rules = [
    ...(active ? active.rules.map((r) => ({ ...r, phase: active.name })) : []),
    ...agent.rules.map((r) => ({ ref: r.ref, text: ruleText(r) })),
  ];
  if (o.format === 'json') {
    out.print(
      JSON.stringify(
        {
          agent: id,
          defined: agent.ref,
          default: agent.default ?? 'deny',
          policy_version: inForce.policy_version,
          standing: standing ?? null,
          budgets,
          rules,
          phases,
          rate_limits: agent.rate_limits.map((l) => ({ pattern: l.pattern, limit: l.limit, window: l.window })),
          credentials: agent.credentials.map((c) => ({ id: c.id, tools: c.tools })),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const title = `Agent ${id}`;
  const lines = [title, '─'.repeat(title.length)];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(10)}${v}`);
  row('defined', agent.ref);
  row('default', `${agent.default ?? 'deny'}${agent.default ? '' : ' (none declared)'}`);
  row(
    'policy',
    `${inForce.policy_version.slice(0, 16)} (${inForce.source === 'running' ? 'enforced by the running daemon' : 'last applied; no daemon runs'})`,
  );
  if (agent.model) row('model', agent.model);
  if (standing) {
    const q = standing.quiesced;
    row('state', q ? `QUIESCED by ${q.by} at ${q.at}${q.reason ? ` (${q.reason})` : ''}: every call is denied` : 'active');
    const d = standing.decisions;
    lines.push(
      '',
      `Since the daemon started: ${d.permit + d.defer + d.deny} decisions (${d.permit} permit, ${d.defer} defer, ${d.deny} deny)`,
    );
    lines.push(`Pending approvals: ${standing.pending_approvals}`);
  }
  if (budgets.length > 0) {
    lines.push('', 'Budgets:');
    for (const b of budgets) lines.push(`  ${b.id.padEnd(12)} ${budgetLine(b)}`);
  } else if (agent.budgets.length > 0)
    lines.push('', `Budgets: ${agent.budgets.map((b) => b.id).join(', ')} (spending is known to the running daemon)`);
  lines.push('', 'Rules (in order):');
  if (rules.length === 0) lines.push(`  none: every call gets the default (${agent.default ?? 'deny'})`);
  rules.forEach((r, i) =>
    lines.push(`  ${String(i + 1).padStart(2)}. ${r.ref.padEnd(20)} ${r.text}${'phase' in r ? `   (phase "${r.phase}")` : ''}`),
  );
  if (phases.length > 0) {
    lines.push('', 'Phases:');
    for (const p of phases) {
      if (p.state === 'unknown')
        lines.push(
          `  "${p.name}"  ${status ? 'the running daemon does not report phases (an older version)' : 'timed by the running daemon (none runs)'}: while active, its rules are tried first`,
        );
      else
        lines.push(
          `  "${p.name}"  ${phaseLine({ agent: id, ...p, state: p.state })}${p.state === 'active' ? `: its rules are tried first (1–${p.rules.length} above)` : ''}`,
        );
      if (p.state !== 'active') for (const r of p.rules) lines.push(`      ${r.ref.padEnd(20)} ${r.text}   (not tried now)`);
    }
  }
  if (agent.rate_limits.length > 0) {
    lines.push('', 'Rate limits:');
    for (const l of agent.rate_limits) lines.push(`  ${l.pattern.padEnd(16)} ${l.limit}/${l.window}`);
  }
  if (agent.credentials.length > 0) {
    lines.push('', 'Credentials:');
    for (const c of agent.credentials) lines.push(`  ${c.id.padEnd(16)} for ${c.tools.join(', ')}`);
  }
  out.print(lines.join('\n'));
  return 0;
}

export function budgetLine(b: BudgetUsage): string {
  const parts = [
    b.max_usd !== undefined
      ? `$${b.spent_usd.toFixed(2)} / $${b.max_usd}${b.max_usd > 0 ? ` (${((100 * b.spent_usd) / b.max_usd).toFixed(1)}%)` : ''}`
      : `$${b.spent_usd.toFixed(2)} spent`,
    b.max_calls !== undefined ? `${b.calls} / ${b.max_calls} calls` : undefined,
  ];
  return `${parts.filter(Boolean).join(', ')}${b.window === 'session' ? ' (per session)' : ` (${b.period ?? 'today'})`}`;
}

/** `faramesh plan` as text: the policy diff, the decision replay, then providers and runtime. */
import pc from 'picocolors';
import type { DiffEntry } from './diff.js';
import type { Plan } from './index.js';
import type { ReplayResult } from './replay.js';

/** Kinds shown in the third section: what starts, stops or reconnects at apply rather than what decides. */
const INFRASTRUCTURE = new Set(['provider', 'identity', 'mcp_server', 'http_route', 'runtime']);
const SYMBOL = { added: '+', removed: '-', changed: '~' } as const;

export function renderPlan(plan: Plan, entries: DiffEntry[], source: string, color: boolean): string {
  const paint = (change: DiffEntry['change'], s: string) =>
    !color ? s : change === 'added' ? pc.green(s) : change === 'removed' ? pc.red(s) : pc.yellow(s);
  const against = plan.baseline
    ? `vs. policy ${plan.baseline.policy_version.slice(0, 16)}, ${plan.baseline.source === 'running' ? 'enforced by the running daemon' : 'last applied'}`
    : 'nothing applied yet';
  const lines = [`Plan for ${source}: policy ${plan.policy_version.slice(0, 16)} (${against})`, ''];
  lines.push(
    '=== Policy diff ===',
    ...section(
      entries.filter((e) => !INFRASTRUCTURE.has(e.kind)),
      paint,
    ),
    '',
  );
  lines.push(...replayLines(plan.replay), '');
  lines.push(
    '=== Providers and runtime ===',
    ...section(
      entries.filter((e) => INFRASTRUCTURE.has(e.kind)),
      paint,
    ),
  );
  return lines.join('\n');
}

function section(entries: DiffEntry[], paint: (c: DiffEntry['change'], s: string) => string): string[] {
  if (entries.length === 0) return ['  no changes'];
  const lines: string[] = [];
  let agent: string | undefined;
  for (const e of entries) {
    if (e.agent !== agent) {
      agent = e.agent;
      if (agent !== undefined) lines.push(agent === '(top level)' ? 'top-level rules' : `agent "${agent}"`);
    }
    const indent = e.agent === undefined ? '' : '  ';
    lines.push(paint(e.change, `${indent}${SYMBOL[e.change]} ${e.kind.padEnd(5)} ${e.subject}`));
    if (e.change === 'changed') {
      const pad = ' '.repeat(indent.length + 8);
      lines.push(`${pad}old: ${e.old}`, `${pad}new: ${e.new}`);
    }
  }
  return lines;
}

/** The transitions always shown, even at zero: tightening first, then loosening. */
const SHOWN = ['permit_to_defer', 'permit_to_deny', 'defer_to_permit', 'deny_to_permit'];
const ARROW_ORDER = ['permit_to_defer', 'permit_to_deny', 'defer_to_deny', 'defer_to_permit', 'deny_to_permit', 'deny_to_defer'];

function replayLines(r: ReplayResult): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  if (r.log === null) return [`=== Decision replay (last ${r.window}) ===`, '  no audit log yet: nothing to replay'];
  const head = `=== Decision replay (last ${r.window}, ${n(r.total)} ${r.total === 1 ? 'call' : 'calls'}) ===`;
  if (r.total === 0) return [head, `  no decisions since ${r.from}`];
  const pct = (x: number) => `(${((100 * x) / r.total).toFixed(1)}%)`;
  const rows: [string, number, string][] = [['unchanged', r.unchanged, '']];
  for (const t of ARROW_ORDER) {
    const tools = r.transitions[t] ?? [];
    const count = tools.reduce((s, x) => s + x.count, 0);
    if (count > 0 || SHOWN.includes(t))
      rows.push([t.replace('_to_', '→'), count, tools.map((x) => `${x.tool} × ${n(x.count)}`).join(', ')]);
  }
  const undetermined = r.undetermined.reduce((s, x) => s + x.count, 0);
  rows.push([
    'undetermined',
    undetermined,
    r.undetermined.map((u) => `${u.tool} × ${n(u.count)} (${u.effects.join(' or ')}: depends on ${u.on.join(', ')})`).join('; '),
  ]);
  const width = Math.max(...rows.map(([, c]) => n(c).length));
  return [
    head,
    ...rows.map(([label, count, detail]) =>
      `  ${label.padEnd(14)} ${n(count).padStart(width)}${count > 0 ? `  ${pct(count).padEnd(8)}${detail ? ` ${detail}` : ''}` : ''}`.trimEnd(),
    ),
  ];
}

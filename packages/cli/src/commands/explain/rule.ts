/**
 * faramesh explain rule <governance.fms:LINE>: what a rule of the policy in force says, since when
 * it has been in force unchanged, and which decisions it made in the last day and week, from the
 * log. A decision counts when its policy had this same rule at this same line.
 */
import { eachRecord } from '@faramesh/audit';
import { quote, type PolicyIR } from '@faramesh/fpl';
import { stackPaths, type StackPaths } from '@faramesh/daemon';
import { existsSync } from 'node:fs';
import { makeOut } from '../../output.js';
import { ruleText } from '../../rule-text.js';
import { walDir } from '../audit/paths.js';
import { inline } from '../../output.js';
import { NOT_ENFORCED, notEnforced } from '../audit/render.js';
import { decidingPolicy, requirePolicyInForce } from '../daemon/policy-in-force.js';
import { placedRules, placeText, ruleSignature, type PlacedRule } from './rules.js';

export interface ExplainRuleOptions {
  dir: string;
  format?: 'text' | 'json';
  noColor?: boolean;
}

const DAY_MS = 86_400_000;
const SAMPLES = 5;

interface RuleHistory {
  /** When the run of applied policies holding this rule unchanged began, and how many applies ago. */
  since?: { at: string; policy_version: string; applies_ago: number };
  last_24h: number;
  last_7d: number;
  /** `enforced`: false for a deny or defer under `mode = "audit"` (the call ran). */
  recent: { action_id: string; time: string; effect: string; enforced: boolean; tool: string; agent_id: string }[];
}

export async function explainRule(ref: string, o: ExplainRuleOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const paths = stackPaths(o.dir);
  const inForce = await requirePolicyInForce(paths, out);
  if (!inForce) return 1;
  const found = placedRules(inForce.ir).filter((p) => p.rule.ref === ref);
  const declared = found.length === 0 ? declarationAt(inForce.ir, ref) : undefined;
  if (declared) return explainDeclaration(ref, declared, o, inForce.policy_version);
  if (found.length === 0) {
    out.error(
      out.fail(`no rule at ${ref} in the policy in force (${inForce.policy_version.slice(0, 16)}): rules are named governance.fms:LINE`),
    );
    return 1;
  }
  let history: RuleHistory[];
  try {
    const log = walDir({ stack: o.dir });
    history = found.map((p) => ruleHistory(paths, existsSync(log) ? log : undefined, p, Date.now()));
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  if (o.format === 'json') {
    const rules = found.map((p, i) => ({
      ref,
      text: ruleText(p.rule),
      effect: p.rule.effect.toUpperCase(),
      agent: p.agent || null,
      phase: p.phase ?? null,
      policy_version: inForce.policy_version,
      ...history[i]!,
    }));
    out.print(JSON.stringify({ rules }, null, 2));
    return 0;
  }
  found.forEach((p, i) => {
    const h = history[i]!;
    const title = `Rule ${ref}`;
    out.print([title, '─'.repeat(title.length)].join('\n'));
    const rows: [string, string][] = [
      ['text', ruleText(p.rule)],
      ['effect', `${p.rule.effect.toUpperCase()}${p.rule.strict ? ' (strict: no later rule may permit what it denies)' : ''}`],
      ['in', placeText(p)],
      [
        'policy',
        `${inForce.policy_version.slice(0, 16)} (${inForce.source === 'running' ? 'in force in the running daemon' : 'last applied'}${inForce.ir.runtime.mode === 'audit' ? '; mode = "audit": its denies and defers are recorded, not enforced' : ''})`,
      ],
      [
        'since',
        h.since ? `${h.since.at} (policy ${h.since.policy_version.slice(0, 16)}, ${h.since.applies_ago} applies ago)` : 'not in the log',
      ],
      ['matches', `last 24h: ${h.last_24h} · last 7d: ${h.last_7d}`],
    ];
    if (p.rule.origin) rows.push(['from', p.rule.origin]);
    for (const [k, v] of rows) out.print(`${k.padEnd(9)}${v}`);
    if (h.recent.length > 0) {
      out.print('\nRecent decisions:');
      for (const d of h.recent) out.print(`  ${recentLine(d)}`);
    }
    if (i < found.length - 1) out.print('');
  });
  return 0;
}

/** One of a rule's recent decisions, as listed. */
const recentLine = (d: RuleHistory['recent'][number]) =>
  `${d.action_id}  ${d.effect.toUpperCase().padEnd(6)} ${inline(d.agent_id)} → ${inline(d.tool)}  ${d.time}${d.enforced ? '' : `  ${NOT_ENFORCED}`}`;

/** A decision of the last week counted, and kept among the latest few. */
function counted(history: RuleHistory, r: Record<string, unknown>, nowMs: number): void {
  history.last_7d++;
  if (nowMs - Date.parse(String(r.time)) <= DAY_MS) history.last_24h++;
  history.recent.unshift({
    action_id: `action-${String(r.id)}`,
    time: String(r.time),
    effect: String(r.effect),
    enforced: !notEnforced(r),
    tool: String(r.tool),
    agent_id: String(r.agent_id),
  });
  history.recent.length = Math.min(history.recent.length, SAMPLES);
}

/** One pass over the log: when the rule came into force unchanged, and the decisions it made. */
function ruleHistory(paths: StackPaths, log: string | undefined, placed: PlacedRule, nowMs: number): RuleHistory {
  const history: RuleHistory = { last_24h: 0, last_7d: 0, recent: [] };
  if (!log) return history;
  const signature = ruleSignature(placed);
  const holds = new Map<string, boolean>();
  /** Whether a policy version had this same rule at this same line. */
  const has = (version: string): boolean => {
    let v = holds.get(version);
    if (v === undefined) {
      try {
        v = placedRules(decidingPolicy(paths, version).ir).some((p) => p.rule.ref === placed.rule.ref && ruleSignature(p) === signature);
      } catch {
        v = false;
      }
      holds.set(version, v);
    }
    return v;
  };
  const applies: { at: string; version: string }[] = [];
  eachRecord(log, ({ record: r }) => {
    if (r.type === 'policy_applied') applies.push({ at: String(r.time), version: String(r.policy_version) });
    if (r.type !== 'decision' || r.rule_ref !== placed.rule.ref) return;
    if (nowMs - Date.parse(String(r.time)) <= 7 * DAY_MS && has(String(r.policy_version))) counted(history, r, nowMs);
  });
  // The latest unbroken run of applies whose policy holds the rule.
  for (let i = applies.length - 1; i >= 0 && has(applies[i]!.version); i--)
    history.since = { at: applies[i]!.at, policy_version: applies[i]!.version, applies_ago: applies.length - 1 - i };
  return history;
}

/** A limit the engine names as a decision's `rule_ref`, though it is no rule: a rate limit, a budget, a completion gate. */
interface Declaration {
  kind: 'rate_limit' | 'budget' | 'completion_gate';
  agent: string;
  text: string;
}

function declarationAt(ir: PolicyIR, ref: string): Declaration | undefined {
  for (const a of ir.agents) {
    const limit = a.rate_limits.find((l) => l.ref === ref);
    if (limit) return { kind: 'rate_limit', agent: a.id, text: `rate_limit ${quote(limit.pattern)}: ${limit.limit} per ${limit.window}` };
    const budget = a.budgets.find((b) => b.ref === ref);
    if (budget) {
      const caps = [
        budget.max !== undefined ? `max $${budget.max}` : undefined,
        budget.daily !== undefined ? `daily $${budget.daily}` : undefined,
        budget.max_calls !== undefined ? `max_calls ${budget.max_calls}` : undefined,
        `on_exceed ${budget.on_exceed}`,
      ].filter(Boolean);
      return { kind: 'budget', agent: a.id, text: `budget ${budget.id} { ${caps.join(', ')} }` };
    }
    if (a.completion_gate?.ref === ref)
      return {
        kind: 'completion_gate',
        agent: a.id,
        text: `completion_gate { require = [${a.completion_gate.require.map(quote).join(', ')}] }`,
      };
  }
  return undefined;
}

/** A limit at the ref: what it says, and the decisions of the last week that name it. */
function explainDeclaration(ref: string, d: Declaration, o: ExplainRuleOptions, policyVersion: string): number {
  const out = makeOut(o.noColor);
  const history: RuleHistory = { last_24h: 0, last_7d: 0, recent: [] };
  const now = Date.now();
  try {
    const log = walDir({ stack: o.dir });
    if (existsSync(log))
      eachRecord(log, ({ record: r }) => {
        if (r.type === 'decision' && r.rule_ref === ref && r.agent_id === d.agent && now - Date.parse(String(r.time)) <= 7 * DAY_MS)
          counted(history, r, now);
      });
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  if (o.format === 'json') {
    out.print(JSON.stringify({ declaration: { ref, ...d, policy_version: policyVersion }, ...history }, null, 2));
    return 0;
  }
  const title = `${ref}: ${d.kind.replace('_', ' ')} of agent ${d.agent} (not a rule; decisions it refuses name it)`;
  out.print([title, '─'.repeat(title.length)].join('\n'));
  out.print(`${'text'.padEnd(9)}${d.text}`);
  out.print(`${'policy'.padEnd(9)}${policyVersion.slice(0, 16)}`);
  out.print(`${'named'.padEnd(9)}last 24h: ${history.last_24h} · last 7d: ${history.last_7d}`);
  if (history.recent.length > 0) {
    out.print('\nRecent decisions:');
    for (const r of history.recent) out.print(`  ${recentLine(r)}`);
  }
  return 0;
}

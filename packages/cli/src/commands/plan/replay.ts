/**
 * The replay of `faramesh plan`: every decision the log recorded in the window, judged again by the
 * new policy. The log keeps the agent, the tool, the delegation chain, the time and the outcome,
 * never the arguments; so a call is
 * - unchanged when everything that decides it (its candidate rules, phases, selectors and grants,
 *   and after them its limits, budgets, egress, bounds and credentials) is the same in the policy
 *   that decided it and in the new one, or when the new rules give it the effect its rules gave;
 * - a transition (`permit→deny`) when the new rules give one other effect whatever its arguments;
 * - undetermined when the new effect depends on what the log does not keep (an argument, an HTTP
 *   clause, a selector, a phase, a delegation ttl, the state of changed limits), or when something
 *   other than the rules decided it (a limit, an operator, an identity check) and the new rules
 *   would let it reach that point again.
 */
import { eachRecord } from '@faramesh/audit';
import type { PolicyIR } from '@faramesh/fpl';
import { laterStageKey, prepare, ruleOutcome, ruleStageKey, type PreparedPolicy, type RuleOutcome } from '@faramesh/engine';
import type { StackPaths } from '@faramesh/daemon';
import { AppliedPolicies, decidedBy, NOT_DECISIONS, type PlanEffect, type Recorded } from './recorded.js';

export type { PlanEffect } from './recorded.js';

export interface ToolCount {
  tool: string;
  count: number;
}

export interface Undetermined extends ToolCount {
  /** The effects the new policy could give these calls. */
  effects: PlanEffect[];
  /** What the choice depends on: `args.to`, `host clause`, `RATE_EXCEEDED (rate and budget state is not replayed)`. */
  on: string[];
}

export interface ReplayResult {
  window: string;
  from: string;
  /** The log read, or null when the stack has none yet. */
  log: string | null;
  total: number;
  unchanged: number;
  /** `permit_to_deny` → calls by tool, most first. */
  transitions: Record<string, ToolCount[]>;
  undetermined: Undetermined[];
}

export function replay(
  paths: StackPaths,
  log: string | null,
  next: PolicyIR,
  window: { text: string; seconds: number },
  nowMs: number,
): ReplayResult {
  const fromMs = nowMs - window.seconds * 1000;
  const result: ReplayResult = {
    window: window.text,
    from: new Date(fromMs).toISOString(),
    log,
    total: 0,
    unchanged: 0,
    transitions: {},
    undetermined: [],
  };
  if (log === null) return result;
  const judge = new Judge(paths, prepare(next));
  eachRecord(
    log,
    ({ record }) => {
      if (record.type !== 'decision' || record.action_type === 'completion_event') return;
      const timeMs = Date.parse(String(record.time));
      if (!(timeMs >= fromMs) || NOT_DECISIONS.has(String(record.code))) return;
      result.total++;
      judge.call(record as unknown as Recorded, timeMs);
    },
    fromMs,
  );
  return judge.finish(result);
}

class Judge {
  private readonly applied: AppliedPolicies;
  private readonly keys = new Map<string, string>();
  private unchanged = 0;
  private readonly moves = new Map<string, Map<string, number>>();
  private readonly open = new Map<string, Undetermined>();

  constructor(
    paths: StackPaths,
    private readonly next: PreparedPolicy,
  ) {
    this.applied = new AppliedPolicies(paths);
  }

  call(r: Recorded, timeMs: number): void {
    const before = this.applied.get(r.policy_version);
    const chain = r.delegation_chain ?? [];
    // Everything that decides this call is the same in both policies: whatever decided it would again.
    const rulesSame = before !== null && this.key('rules', r.policy_version, before.policy, r) === this.key('rules', 'next', this.next, r);
    const laterSame = before !== null && this.key('later', r.policy_version, before.policy, r) === this.key('later', 'next', this.next, r);
    if (rulesSame && laterSame) return void this.unchanged++;
    const now = ruleOutcome(this.next, { agent_id: r.agent_id, tool: r.tool, time_ms: timeMs, delegation_chain: chain });
    const stage = decidedBy(r, before);
    if (typeof stage === 'string') {
      // Something after the rules (or before them) decided it: the new rules can only settle a deny.
      if (now.kind === 'decided' && now.effect === 'DENY') return this.judged(r.effect, 'deny', r.tool);
      return this.undetermined(r.tool, [...effectsOf(now), r.effect], [`${stage} (not replayed)`]);
    }
    if (now.kind === 'depends') return this.undetermined(r.tool, effectsOf(now), now.on);
    const effect = lower(now.effect);
    if (effect !== 'deny' && before !== null && !laterSame)
      return this.undetermined(
        r.tool,
        [effect, 'deny'],
        ['its rate limits, budgets, egress or grants changed (their state is not replayed)'],
      );
    this.judged(stage.effect, effect, r.tool);
  }

  private judged(was: PlanEffect, now: PlanEffect, tool: string): void {
    if (was === now) this.unchanged++;
    else this.move(`${was}_to_${now}`, tool);
  }

  finish(result: ReplayResult): ReplayResult {
    result.unchanged = this.unchanged;
    for (const [transition, tools] of this.moves) result.transitions[transition] = byCount(tools);
    result.undetermined = [...this.open.values()].sort((a, b) => b.count - a.count || a.tool.localeCompare(b.tool));
    return result;
  }

  private move(transition: string, tool: string): void {
    const tools = this.moves.get(transition) ?? new Map<string, number>();
    tools.set(tool, (tools.get(tool) ?? 0) + 1);
    this.moves.set(transition, tools);
  }

  private undetermined(tool: string, effects: PlanEffect[], on: string[]): void {
    const entry = this.open.get(tool) ?? { tool, count: 0, effects: [], on: [] };
    entry.count++;
    entry.effects = ORDER.filter((e) => entry.effects.includes(e) || effects.includes(e));
    entry.on = [...new Set([...entry.on, ...on])].sort();
    this.open.set(tool, entry);
  }

  private key(stage: 'rules' | 'later', version: string, policy: PreparedPolicy, r: Recorded): string {
    const chain = r.delegation_chain ?? [];
    const k = `${stage}\u0000${version}\u0000${r.agent_id}\u0000${r.tool}\u0000${chain.join('\u0000')}`;
    let v = this.keys.get(k);
    if (v === undefined)
      this.keys.set(
        k,
        (v = stage === 'rules' ? ruleStageKey(policy, r.agent_id, r.tool, chain) : laterStageKey(policy, r.agent_id, r.tool)),
      );
    return v;
  }
}

const effectsOf = (o: RuleOutcome): PlanEffect[] => (o.kind === 'decided' ? [o.effect] : o.effects).map(lower);

const ORDER: readonly PlanEffect[] = ['permit', 'defer', 'deny'];
const lower = (e: 'PERMIT' | 'DEFER' | 'DENY') => e.toLowerCase() as PlanEffect;

function byCount(tools: Map<string, number>): ToolCount[] {
  return [...tools].map(([tool, count]) => ({ tool, count })).sort((a, b) => b.count - a.count || a.tool.localeCompare(b.tool));
}

/**
 * The replay of `faramesh plan`: every decision the log recorded in the window, judged again by the
 * new policy's rule stage. The log keeps the agent, the tool, the time and the outcome, never the
 * arguments; so a call is
 * - unchanged when the rules it could meet are the same in the policy that decided it and in the new
 *   one (then nothing about its arguments can make a difference), or when the new rules give the
 *   effect it had;
 * - a transition (`permit→deny`) when the new rules give one other effect whatever its arguments;
 * - undetermined when the new effect depends on what the log does not keep (an argument, an HTTP
 *   clause, a selector, a phase), or when a rate limit or budget decided it and the new rules would
 *   let it reach them again.
 */
import { LogFollower, type Verifier } from '@faramesh/audit';
import type { PolicyIR } from '@faramesh/fpl';
import { prepare, ruleOutcome, ruleStageKey, type PreparedPolicy } from '@faramesh/engine';
import type { StackPaths } from '@faramesh/daemon';
import { appliedVersion, stackVerifiers } from '../daemon/policy-in-force.js';

export type PlanEffect = 'permit' | 'defer' | 'deny';

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

/** Codes of decisions made after the rule stage, by state the log does not replay. */
const LATER_STAGES = new Set(['RATE_EXCEEDED', 'BUDGET_EXCEEDED', 'EGRESS_DENIED', 'MODEL_DENIED', 'CREDENTIAL_UNAVAILABLE']);
/** Refusals that say nothing about the policy: the daemon could not decide at all. */
const NOT_DECISIONS = new Set(['DAEMON_NOT_READY', 'AUDIT_UNAVAILABLE', 'RUNTIME_GAP']);
const BATCH = 10_000;

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
  const follower = new LogFollower(log);
  for (let batch = follower.poll(BATCH); batch.length > 0; batch = follower.poll(BATCH))
    for (const { record } of batch) {
      if (record.type !== 'decision' || record.action_type === 'completion_event') continue;
      const timeMs = Date.parse(String(record.time));
      if (!(timeMs >= fromMs) || NOT_DECISIONS.has(String(record.code))) continue;
      result.total++;
      judge.call(record as unknown as Recorded, timeMs);
    }
  return judge.finish(result);
}

interface Recorded {
  agent_id: string;
  tool: string;
  effect: PlanEffect;
  code?: string;
  policy_version: string;
  approval?: unknown;
}

class Judge {
  private readonly verifiers: Verifier[];
  private readonly applied = new Map<string, PreparedPolicy | null>();
  private readonly keys = new Map<string, string>();
  private unchanged = 0;
  private readonly moves = new Map<string, Map<string, number>>();
  private readonly open = new Map<string, Undetermined>();

  constructor(
    private readonly paths: StackPaths,
    private readonly next: PreparedPolicy,
  ) {
    this.verifiers = stackVerifiers(paths);
  }

  call(r: Recorded, timeMs: number): void {
    // A call run on an operator's approval was deferred by the policy.
    const was: PlanEffect = r.approval !== undefined ? 'defer' : r.effect;
    const before = this.policy(r.policy_version);
    if (before && this.stageKey(r.policy_version, before, r) === this.stageKey('next', this.next, r)) {
      this.unchanged++;
      return;
    }
    const call = { agent_id: r.agent_id, tool: r.tool, time_ms: timeMs };
    const now = ruleOutcome(this.next, call);
    if (now.kind === 'depends') return this.undetermined(r.tool, now.effects.map(lower), now.on);
    const effect = lower(now.effect);
    if (r.code !== undefined && LATER_STAGES.has(r.code) && effect !== 'deny') {
      // The rules let it through to the stage that decided it: unchanged if they did before too.
      const old = before ? ruleOutcome(before, call) : undefined;
      if (old?.kind === 'decided' && old.effect === now.effect) this.unchanged++;
      else this.undetermined(r.tool, [effect, was], [`${r.code} (rate and budget state is not replayed)`]);
      return;
    }
    if (effect === was) this.unchanged++;
    else this.move(`${was}_to_${effect}`, r.tool);
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

  /** The policy a record was decided under, from the signed copies apply keeps; null when there is none that verifies. */
  private policy(version: string): PreparedPolicy | null {
    let p = this.applied.get(version);
    if (p === undefined) {
      try {
        p = prepare(appliedVersion(this.paths, version, this.verifiers).ir);
      } catch {
        p = null;
      }
      this.applied.set(version, p);
    }
    return p;
  }

  private stageKey(version: string, policy: PreparedPolicy, r: Recorded): string {
    const k = `${version}\u0000${r.agent_id}\u0000${r.tool}`;
    let v = this.keys.get(k);
    if (v === undefined) this.keys.set(k, (v = ruleStageKey(policy, r.agent_id, r.tool)));
    return v;
  }
}

const ORDER: readonly PlanEffect[] = ['permit', 'defer', 'deny'];
const lower = (e: 'PERMIT' | 'DEFER' | 'DENY') => e.toLowerCase() as PlanEffect;

function byCount(tools: Map<string, number>): ToolCount[] {
  return [...tools].map(([tool, count]) => ({ tool, count })).sort((a, b) => b.count - a.count || a.tool.localeCompare(b.tool));
}

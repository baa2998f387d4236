/**
 * Which recorded decisions become fixture cases. The log keeps no argument values, so a decision
 * is a case only when the policy that made it gives the same decision without them: its rules
 * decided it whatever the arguments were (the engine's `ruleOutcome`), and the whole pipeline, run on
 * empty arguments at the recorded time and in the recorded session, agrees. Then the cases of one
 * agent are run in order on one state, as `faramesh test` runs them, and any that the earlier ones
 * change (a shared rate limit or budget) are dropped.
 */
import { applyDelta, decide, emptyState, ruleOutcome, type EngineState, type PreparedPolicy } from '@faramesh/engine';
import { requestOf, type FixtureCase } from '../../fixtures.js';
import { decidedBy, NOT_DECISIONS, type AppliedPolicies, type Recorded } from '../plan/recorded.js';

/** One tool of one agent: the case for its latest decision, and the policy that made it. */
export interface Kept {
  agent: string;
  timeMs: number;
  seen: number;
  /** The tool's recorded decision changed within the window (the latest is kept). */
  changed: boolean;
  case: FixtureCase;
  policy: PreparedPolicy;
}

const WIRE = { permit: 'PERMIT', defer: 'DEFER', deny: 'DENY' } as const;

/** The case that reproduces a recorded decision without its arguments (and the policy that made it), or why there is none. */
export function caseOf(
  r: Recorded & { session_id?: string },
  timeMs: number,
  applied: AppliedPolicies,
): { case: FixtureCase; policy: PreparedPolicy } | string {
  if ((r.action_type ?? 'tool_call') !== 'tool_call') return `a ${r.action_type} (fixtures hold tool calls)`;
  if (r.code !== undefined && NOT_DECISIONS.has(r.code)) return `${r.code}: the daemon could not decide`;
  if (r.delegation_chain?.length) return 'a delegated call (a fixture cannot carry its delegation)';
  const before = applied.get(r.policy_version);
  if (!before) return 'its policy is not among the signed versions apply kept';
  const stage = decidedBy(r, before);
  if (typeof stage === 'string') return `${stage} decided it, not the rules`;
  const rules = ruleOutcome(before.policy, { agent_id: r.agent_id, tool: r.tool, time_ms: timeMs, delegation_chain: [] });
  if (rules.kind === 'depends') return `depends on ${rules.on.join(', ')}`;
  if (rules.effect !== WIRE[stage.effect]) return 'its rules give another effect without its arguments';
  const c: FixtureCase = {
    name: r.tool,
    tool: r.tool,
    ...(r.session_id !== undefined ? { session: r.session_id } : {}),
    now: new Date(timeMs).toISOString(),
    expect: { effect: rules.effect },
  };
  // The whole pipeline on empty arguments, as `faramesh test` will run the case.
  const got = decideCase(before.policy, r.agent_id, c, emptyState());
  if (got.effect !== rules.effect) return `without its arguments ${got.code ?? got.effect} decides it`;
  if (got.effect !== 'PERMIT' && got.code) c.expect.code = got.code;
  c.name = `${r.tool} → ${got.effect}`;
  return { case: c, policy: before.policy };
}

/**
 * The cases of one agent that hold when run in order on one state; `drop` hears of the others.
 * Each pass runs what is left, so a dropped case's effect on the state is gone from the next.
 */
export function inSequence(agent: string, cases: Kept[], drop: (k: Kept, why: string) => void): Kept[] {
  for (let current = cases; ;) {
    const state = emptyState();
    const holding = current.filter((k) => {
      const got = decideCase(k.policy, agent, k.case, state);
      const holds = got.effect === k.case.expect.effect && (k.case.expect.code === undefined || got.code === k.case.expect.code);
      if (!holds) drop(k, `after the fixture's earlier cases ${got.code ?? got.effect} decides it (shared rate or budget state)`);
      return holds;
    });
    if (holding.length === current.length) return holding;
    current = holding;
  }
}

/** One case decided as `faramesh test` decides it, its state change applied. */
function decideCase(policy: PreparedPolicy, agent: string, c: FixtureCase, state: EngineState) {
  const nowMs = Date.parse(c.now!);
  state.policy_applied_ms ??= nowMs;
  const { decision, stateDelta } = decide(policy, requestOf({ agent_id: agent, cases: [] }, c), state, { nowMs });
  applyDelta(state, stateDelta);
  return decision;
}

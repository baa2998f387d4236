/**
 * What a policy's rule stage (identity, phases, rules, default) would decide for a call the log
 * recorded, knowing only what the log keeps: the agent, the tool and the time. The log never keeps
 * argument values, HTTP fields, principals or session facts, so a rule whose condition reads one
 * of them may or may not match: the outcome is then the set of effects it could have, with what it
 * depends on. `faramesh plan` replays history with this; the daemon never calls it.
 */
import { matchTool, type ExprIR } from '@faramesh/fpl/runtime';
import { canonicalJson, type Effect } from '@faramesh/protocol';
import { compileCondition } from './conditions.js';
import type { EvalEnv } from './env.js';
import { timeField } from './env.js';
import type { PreparedAgent, PreparedPolicy, PreparedRule } from './prepare.js';
import { checkToolId } from './tool-id.js';
import { MISSING, type Truth } from './values.js';

/** A recorded call: what the log holds of it. */
export interface RecordedCall {
  agent_id: string;
  tool: string;
  /** When it was decided (ms since the epoch): `time.*` conditions read it. */
  time_ms: number;
  /** The agents that delegated the call, outermost first (the record keeps them). */
  delegation_chain?: readonly string[];
}

export type RuleOutcome =
  /** One effect whatever the unrecorded fields were; `rule_ref` when a single rule (not the default) decides. */
  | { kind: 'decided'; effect: Effect; rule_ref?: string }
  /** Several effects are possible; `on` names what the choice depends on (`args.to`, `host clause`, `phase "x"`). */
  | { kind: 'depends'; effects: Effect[]; on: string[] };

const WIRE = { permit: 'PERMIT', defer: 'DEFER', deny: 'DENY' } as const;
const ORDER: readonly Effect[] = ['PERMIT', 'DEFER', 'DENY'];

/** A condition's value when part of it cannot be known from the log. */
const UNKNOWABLE = Symbol('unknowable');
type Partial = Truth | typeof UNKNOWABLE;

/** Request roots a recorded call still knows; every other variable is unrecorded. */
const RECORDED_ROOTS = new Set(['tool', 'agent', 'time']);

export function ruleOutcome(policy: PreparedPolicy, call: RecordedCall): RuleOutcome {
  return delegated(policy, call, rulesOutcome(policy, call));
}

function rulesOutcome(policy: PreparedPolicy, call: RecordedCall): RuleOutcome {
  const agent = policy.agents.get(call.agent_id) ?? policy.flat;
  const tool = checkToolId(call.tool);
  if (!agent || 'problem' in tool) return { kind: 'decided', effect: 'DENY' };
  const possible = new Set<Effect>();
  const on = new Set<string>();
  const env = recordedEnv(call, tool.tool);
  // Phase rules are tried first while their phase runs; when that was is not replayed, so each may apply.
  for (const phase of agent.phases)
    for (const rule of phase.rules.candidates(tool.tool)) {
      if (ruleTruth(agent, rule, env, possible, on) === false) continue;
      possible.add(WIRE[rule.ir.effect]);
      on.add(`phase "${phase.name}"`);
    }
  for (const rule of agent.rules.candidates(tool.tool)) {
    const truth = ruleTruth(agent, rule, env, possible, on);
    if (truth === false) continue;
    possible.add(WIRE[rule.ir.effect]);
    if (truth === true) return settle(possible, on, on.size === 0 ? rule.ir.ref : undefined);
  }
  possible.add(WIRE[agent.ir.default ?? 'deny']);
  return settle(possible, on, undefined);
}

/**
 * A delegated call: the grants along the chain must exist (else DENY, as decide() has it), and
 * the effect is capped at their ceiling. A grant with a ttl depends on when the hop was issued,
 * which the log does not keep, so it may also deny.
 */
function delegated(policy: PreparedPolicy, call: RecordedCall, outcome: RuleOutcome): RuleOutcome {
  const chain = call.delegation_chain ?? [];
  if (chain.length === 0) return outcome;
  let ceiling = 2;
  let target = call.agent_id;
  let ttl = false;
  const id = checkToolId(call.tool);
  const tool = 'problem' in id ? call.tool : id.tool;
  for (let i = chain.length - 1; i >= 0; i--) {
    const grant = policy.agents.get(chain[i]!)?.ir.delegates.find((d) => d.targets.includes(target));
    if (!grant) return { kind: 'decided', effect: 'DENY' };
    // As decide() has it: a tool outside any hop's scope is denied, whatever the worker's rules say.
    if (grant.scope && !grant.scope.some((p) => matchTool(p, tool))) return { kind: 'decided', effect: 'DENY' };
    if (grant.ttl_s !== undefined) ttl = true;
    const cap = { permit: 2, defer: 1, approval: 1, deny: 0 }[grant.ceiling ?? 'permit'] ?? 2;
    ceiling = Math.min(ceiling, cap);
    target = chain[i]!;
  }
  const capped = (e: Effect) => ORDER[2 - Math.min(2 - ORDER.indexOf(e), ceiling)]!;
  const effects = new Set((outcome.kind === 'decided' ? [outcome.effect] : outcome.effects).map(capped));
  const on = new Set(outcome.kind === 'depends' ? outcome.on : []);
  if (ttl) {
    effects.add('DENY');
    on.add('delegation ttl');
  }
  const ref = outcome.kind === 'decided' && effects.size === 1 && capped(outcome.effect) === outcome.effect ? outcome.rule_ref : undefined;
  return settle(effects, on, ref);
}

function settle(possible: Set<Effect>, on: Set<string>, ruleRef: string | undefined): RuleOutcome {
  if (possible.size === 1) {
    const [effect] = possible as unknown as [Effect];
    return ruleRef === undefined ? { kind: 'decided', effect } : { kind: 'decided', effect, rule_ref: ruleRef };
  }
  return { kind: 'depends', effects: ORDER.filter((e) => possible.has(e)), on: [...on].sort() };
}

/**
 * Whether the rule matches: true, false, or unknowable (false here covers the engine's "unknown",
 * which never matches either). An unknowable rule records what it depends on; a rule reading a
 * selector may also take the selector's fallback effect, so that joins the possible effects.
 */
function ruleTruth(agent: PreparedAgent, rule: PreparedRule, env: EvalEnv, possible: Set<Effect>, on: Set<string>): boolean | 'unknowable' {
  let truth: Partial = true;
  if (rule.clauses.length > 0) {
    for (const clause of rule.clauses) on.add(`${clause.field} clause`);
    truth = UNKNOWABLE;
  }
  if (rule.ir.when) {
    for (const id of rule.selectors) {
      const s = agent.selectors.get(id);
      if (s) for (const e of [s.on_unavailable, s.on_timeout]) possible.add(WIRE[e]);
      on.add(`selector ${id}`);
    }
    env.mismatch = false;
    let when = partialTruth(rule.ir.when, env, on);
    // As the engine decides: a deny or defer left unknown by values of different types applies.
    if (when === undefined && env.mismatch && rule.ir.effect !== 'permit') when = true;
    truth = truth === UNKNOWABLE ? (when === true || when === UNKNOWABLE ? UNKNOWABLE : false) : when;
  }
  return truth === UNKNOWABLE ? 'unknowable' : truth === true;
}

/**
 * Kleene logic over the engine's three values plus "unknowable"; known leaves are evaluated by the
 * engine itself. `on` gathers the unrecorded fields the result hangs on (not those a known operand
 * overrides: `time.hour >= 22 or args.urgent` at 23:00 is true whatever the argument).
 */
function partialTruth(expr: ExprIR, env: EvalEnv, on: Set<string>): Partial {
  const unrecorded = unrecordedFields(expr);
  if (unrecorded.length === 0) return compileCondition(expr)(env);
  if ('op' in expr && (expr.op === 'and' || expr.op === 'or' || expr.op === 'not')) {
    const fields = new Set<string>();
    if (expr.op === 'not') {
      const a = partialTruth(expr.args[0], env, fields);
      return joined(a === UNKNOWABLE || a === undefined ? a : !a, fields, on);
    }
    const before = env.mismatch;
    const a = partialTruth(expr.args[0], env, fields);
    const b = partialTruth(expr.args[1], env, fields);
    const dominant = expr.op === 'and' ? false : true;
    if (a === dominant || b === dominant) {
      env.mismatch = before; // as the engine: an overridden operand's mismatch is not why the rest is unknown
      return dominant;
    }
    if (a === UNKNOWABLE || b === UNKNOWABLE) return joined(UNKNOWABLE, fields, on);
    return a === !dominant && b === !dominant ? !dominant : undefined;
  }
  return joined(UNKNOWABLE, new Set(unrecorded), on);
}

function joined(truth: Partial, fields: Set<string>, on: Set<string>): Partial {
  if (truth === UNKNOWABLE) for (const f of fields) on.add(f);
  return truth;
}

/** The unrecorded fields an expression reads (`args.to`, `principal.groups`, `selector user_role`). */
function unrecordedFields(expr: ExprIR): string[] {
  if ('lit' in expr) return [];
  if ('list' in expr) return expr.list.flatMap(unrecordedFields);
  if ('var' in expr) return RECORDED_ROOTS.has(expr.var[0]!) ? [] : [expr.var.join('.')];
  if ('selector' in expr) return [`selector ${expr.selector}`];
  return expr.args.flatMap((a: ExprIR) => unrecordedFields(a));
}

/** Whether an expression reads a variable under `root` (`principal.role`). */
function readsRoot(expr: ExprIR, root: string): boolean {
  if ('lit' in expr) return false;
  if ('list' in expr) return expr.list.some((e) => readsRoot(e, root));
  if ('var' in expr) return expr.var[0] === root;
  if ('selector' in expr) return false;
  return expr.args.some((a: ExprIR) => readsRoot(a, root));
}

/** An evaluation context holding only what the log recorded; nothing else is ever read from it. */
function recordedEnv(call: RecordedCall, tool: string): EvalEnv {
  return {
    request: { agent_id: call.agent_id, tool, args: {} },
    tool,
    time: (field) => timeField(call.time_ms, field),
    session: () => MISSING,
    delegation: () => MISSING,
    selector: () => MISSING,
    mismatch: false,
  };
}

/**
 * A fingerprint of everything the rule stage reads for this agent and tool: the rules that could
 * match (without positions, reasons or notifications), the phases, the selectors they read, the
 * default, and the delegation grants along the chain. Two policies with the same fingerprint give
 * the call the same rule-stage effect whatever its arguments.
 */
export function ruleStageKey(policy: PreparedPolicy, agentId: string, toolId: string, chain: readonly string[] = []): string {
  const agent = policy.agents.get(agentId) ?? policy.flat;
  const tool = checkToolId(toolId);
  if (!agent || 'problem' in tool) return 'refused';
  const strip = (r: PreparedRule) => {
    const { ref: _ref, reason: _reason, notify: _notify, origin: _origin, ...rest } = r.ir;
    return rest;
  };
  const rules = agent.rules.candidates(tool.tool);
  const phases = agent.phases.map((p) => ({
    name: p.name,
    duration_s: p.duration_s ?? null,
    next: p.next ?? null,
    rules: p.rules.candidates(tool.tool).map(strip),
  }));
  const selectorIds = new Set([...rules, ...agent.phases.flatMap((p) => p.rules.candidates(tool.tool))].flatMap((r) => r.selectors));
  const selectors = [...selectorIds].sort().map((id) => withoutRef(agent.selectors.get(id)) ?? { id });
  const grants = chain.map((a) => (policy.agents.get(a)?.ir.delegates ?? []).map(withoutRef));
  // A rule reading principal.* sees what the daemon verified: claims count by the identities and
  // `trust_sdk_principal`, so a change to those changes what the same rule decides.
  const readsPrincipal = [...rules, ...agent.phases.flatMap((p) => p.rules.candidates(tool.tool))].some(
    (r) => r.ir.when !== undefined && readsRoot(r.ir.when, 'principal'),
  );
  const principals = readsPrincipal
    ? { trust_sdk_principal: policy.ir.runtime.trust_sdk_principal ?? null, identities: policy.ir.identities.map(withoutRef) }
    : null;
  // Canonical JSON: a policy read back from its signed file has its keys in another order.
  return canonicalJson({ default: agent.ir.default ?? 'deny', rules: rules.map(strip), phases, selectors, grants, principals });
}

/**
 * A fingerprint of what decides the call after its rules: the rate limits and declared cost for
 * the tool, the agent's budgets, egress, model policy, session bounds, spawn limits, delegation
 * grants, and the credentials bound to the tool. Their state (counters, spending) is not in the log,
 * so a call these decided can only be replayed when they are unchanged.
 */
export function laterStageKey(policy: PreparedPolicy, agentId: string, toolId: string): string {
  const agent = policy.agents.get(agentId) ?? policy.flat;
  const tool = checkToolId(toolId);
  if (!agent || 'problem' in tool) return 'refused';
  const a = agent.ir;
  const facts = agent.toolFacts(tool.tool);
  return canonicalJson({
    limits: facts.limits.map(withoutRef),
    cost: facts.declaredCost ?? null,
    budgets: a.budgets.map(withoutRef),
    egress: withoutRef(a.egress) ?? null,
    model_policy: withoutRef(a.model_policy) ?? null,
    session: withoutRef(a.session) ?? null,
    spawn: withoutRef(a.spawn) ?? null,
    delegates: a.delegates.map(withoutRef),
    credentials: a.credentials.filter((c) => c.tools.some((t) => matchTool(t, tool.tool))).map(withoutRef),
  });
}

function withoutRef<T extends { ref: string }>(x: T | undefined): Omit<T, 'ref'> | undefined {
  if (x === undefined) return undefined;
  const { ref: _ref, ...rest } = x;
  return rest;
}

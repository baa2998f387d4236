/**
 * decide(policy, request, state, clock) → { decision, stateDelta }: steps 1–8 of the enforcement
 * pipeline (identity → rule match → conditions → rate limit → budget → egress → model policy →
 * redaction → decision). Pure and total: no I/O, no clock of its own, and any unexpected error
 * becomes a DENY — it never throws.
 */
import { matchTool, type DelegateIR, type RuleIR } from '@faramesh/fpl/runtime';
import type { Decision, DecisionRequest, DecisionSignal, Effect } from '@faramesh/protocol';
import type { EvalEnv } from './env.js';
import { timeField } from './env.js';
import type { PreparedAgent, PreparedPolicy, PreparedRule, RuleSet } from './prepare.js';
import { checkBudgets } from './stages/budget.js';
import { checkEgress, destinationOf, destinationsOf } from './stages/egress.js';
import { refusedModel } from './stages/models.js';
import { checkAddresses } from './stages/ssrf.js';
import { checkRateLimits } from './stages/rate-limit.js';
import { redact } from './stages/redact.js';
import { checkSpawn, delegateTarget, spawnType } from './stages/spawn.js';
import { activePhase } from './stages/phases.js';
import { key, type DeltaOp, type EngineState, type StateDelta } from './state.js';
import { ambiguousPath, lexicalPath } from './paths.js';
import { checkToolId } from './tool-id.js';
import type { Trace } from './trace.js';
import { MISSING } from './values.js';

export interface Clock {
  /** Milliseconds since the epoch (UTC). */
  nowMs: number;
}

export interface DecideResult {
  decision: Decision;
  stateDelta: StateDelta;
}

export interface DecideOptions {
  /** Collect every step for `faramesh explain` (costs time; off on the hot path). */
  trace?: Trace;
  /**
   * An operator approved this exact call: what would defer it (a rule, a budget's `on_exceed defer`,
   * a delegation ceiling) lets it run, and it runs as any permit does: budgets that deny, egress and
   * model policy still apply, and it spends. Its rate-limit tokens were taken when it was deferred.
   */
  approved?: boolean;
}

/** Shared empty list: most calls have no alerts, no session and no delta of a kind. */
const NONE: readonly never[] = Object.freeze([]);

const STRENGTH: Record<Effect, number> = { DENY: 0, DEFER: 1, PERMIT: 2 };
const WIRE = { permit: 'PERMIT', defer: 'DEFER', deny: 'DENY' } as const;

export function decide(
  policy: PreparedPolicy,
  request: DecisionRequest,
  state: EngineState,
  clock: Clock,
  options: DecideOptions = {},
): DecideResult {
  try {
    return pipeline(policy, request, state, clock.nowMs, options.trace, options.approved === true);
  } catch (e) {
    // Fail closed: a bug must never become a permit.
    return { decision: deny(`denied: the decision could not be computed (${(e as Error).message})`, 'internal'), stateDelta: [] };
  }
}

function pipeline(
  policy: PreparedPolicy,
  request: DecisionRequest,
  state: EngineState,
  nowMs: number,
  trace: Trace | undefined,
  approved: boolean,
): DecideResult {
  // 1. Identity.
  const idProblem = agentIdProblem(request?.agent_id);
  if (idProblem) return refuse(request, idProblem, trace, 'identity');
  const agent = policy.agents.get(request.agent_id) ?? policy.flat;
  // A declared agent's refusals fire its deny alerts, whatever stage refused: a malformed tool id
  // must not be a way to be denied quietly.
  const tool = checkToolId(request.tool);
  if ('problem' in tool) return refuse(request, `denied: ${tool.problem}`, trace, 'identity', agent);
  if (!agent) return refuse(request, `denied: agent '${request.agent_id}' is not declared in the policy`, trace, 'identity');
  trace?.step('identity', `agent ${request.agent_id}${policy.agents.has(request.agent_id) ? '' : ' (top-level rules)'}`);
  const delegation = checkDelegation(policy, request, tool.tool, nowMs);
  if (typeof delegation === 'string') return refuse(request, delegation, trace, 'identity', agent);
  const session = checkSession(agent, request, state, nowMs);
  if (typeof session === 'string') return refuse(request, session, trace, 'session', agent);

  // 2–3. Rule match and conditions.
  const env = new CallEnv(request, tool.tool, agent, state, nowMs);
  const facts = agent.toolFacts(tool.tool);
  const matched = matchRules(agent, activeRules(agent, state, nowMs), tool.tool, env, trace);
  let effect: Effect;
  let rule: RuleIR | undefined;
  if (matched.fallback) {
    effect = WIRE[matched.fallback.effect];
    rule = matched.rule?.ir;
  } else if (matched.rule) {
    effect = WIRE[matched.rule.ir.effect];
    rule = matched.rule.ir;
  } else {
    effect = WIRE[agent.ir.default ?? 'deny'];
    trace?.step('rule match', `no rule matches: default ${agent.ir.default ?? 'deny'}${agent.ir.default ? '' : ' (no default declared)'}`);
  }
  const redacted = () => redact(request.args ?? {}, facts.redactPaths, facts.redactSegments);
  if (approved && effect === 'DEFER') {
    effect = 'PERMIT';
    trace?.step('approval', 'an operator approved this call: it runs as a permit');
  }

  if (effect === 'DENY') {
    const message =
      matched.fallback?.message ??
      rule?.reason ??
      (rule ? `denied: ${tool.tool} blocked by policy` : `denied: no rule permits ${tool.tool} (default deny)`);
    return done(
      denial('POLICY_DENY', message, rule, undefined, redacted(), withRuleNotify(collectAlerts(agent, 'deny'), rule, 'deny')),
      NONE,
      trace,
    );
  }

  // 4. Rate limit: permitted and deferred calls take a token. An approved call took its own when it
  // was deferred: it does not need a second (with `1 per hour`, the approval would be useless).
  const limits = approved ? NONE : facts.limits;
  const rate = checkRateLimits(agent.ir.id, limits, state, nowMs);
  if (rate.exceeded) {
    const { limit, retryAfterSeconds } = rate.exceeded;
    trace?.step('rate limit', `${limit.pattern} ${limit.limit}/${limit.window} exceeded: retry after ${retryAfterSeconds}s`);
    return done(
      {
        effect: 'DENY',
        code: 'RATE_EXCEEDED',
        rule_ref: limit.ref,
        human_message: `denied: ${tool.tool} rate limit (${limit.limit}/${limit.window}) exceeded`,
        resolution: { type: 'retry_after', retry_after_seconds: retryAfterSeconds },
        signals: [],
        redacted_args: redacted(),
        alerts: collectAlerts(agent, 'rate_exceeded', 'deny'),
      },
      NONE,
      trace,
    );
  }
  trace?.step(
    'rate limit',
    approved && facts.limits.length > 0
      ? 'approved: its tokens were taken when it was deferred'
      : limits.length === 0
        ? 'no limit applies'
        : limits.map((l) => `${l.pattern} ${l.limit}/${l.window} ok`).join(', '),
  );
  // A deferred call takes its rate token but spends no budget until it runs.
  const takenDelta: readonly DeltaOp[] =
    rate.delta.length === 0 ? session : session.length === 0 ? rate.delta : [...rate.delta, ...session];

  // 5. Budget: only calls that would run spend.
  let signals: DecisionSignal[] = NONE as never[];
  let spendDelta: readonly DeltaOp[] = NONE;
  let auditFlag: string | undefined;
  let budgetDefer: { id: string; message: string } | undefined;
  if (effect === 'PERMIT' && agent.ir.budgets.length > 0) {
    const budget = checkBudgets(agent.ir.id, agent.ir.budgets, request, state, nowMs, facts.declaredCost);
    signals = budget.signals;
    if (budget.exceeded) {
      const { budget: b, message, resetsAt } = budget.exceeded;
      trace?.step('budget', `${message}: on_exceed ${b.on_exceed}`);
      if (b.on_exceed === 'deny') {
        return done(
          {
            effect: 'DENY',
            code: 'BUDGET_EXCEEDED',
            budget_id: b.id,
            rule_ref: b.ref,
            human_message: `denied: ${message}`,
            resolution: { type: 'budget_reset', ...(resetsAt ? { resets_at: resetsAt } : {}) },
            // Nothing is spent: no other budget crossed its warn_at (the call that does spend warns).
            signals: [],
            redacted_args: redacted(),
            alerts: collectAlerts(agent, 'budget_exceeded', 'deny'),
          },
          NONE,
          trace,
        );
      }
      if (b.on_exceed === 'defer' && !approved) budgetDefer = { id: b.id, message };
      else {
        auditFlag = `budget_exceeded:${b.id}`;
        signals.push({ code: 'BUDGET_EXCEEDED', budget_id: b.id, human_message: message });
        spendDelta = budget.delta;
      }
    } else {
      trace?.step('budget', 'within budget');
      spendDelta = budget.delta;
    }
  }

  // 6. Egress: the SSRF guard on the addresses a proxy resolved, then the allow and deny lists.
  const addresses = request.http?.addresses;
  if (addresses && addresses.length > 0) {
    const host = destinationOf(request) ?? '';
    const refused = checkAddresses(host, addresses, agent.ir.egress?.allow ?? [], request.http?.own_addresses);
    trace?.step('ssrf guard', refused ?? `${addresses.join(', ')}: public, or named in egress allow`);
    if (refused)
      return done(
        denial('EGRESS_DENIED', `denied: ${refused}`, undefined, 'egress', redacted(), collectAlerts(agent, 'deny')),
        NONE,
        trace,
      );
  }
  if (agent.ir.egress) {
    const egress = agent.ir.egress;
    const hosts = destinationsOf(request);
    let refused: string | undefined;
    for (const host of hosts) {
      refused = checkEgress(egress, host);
      if (refused) break;
    }
    trace?.step('egress', hosts.length === 0 ? 'no destination in the call' : (refused ?? `${hosts.join(', ')} allowed`));
    if (refused) {
      return done(
        denial('EGRESS_DENIED', `denied: ${refused}`, undefined, 'egress', redacted(), collectAlerts(agent, 'deny')),
        NONE,
        trace,
      );
    }
  }

  // 7. Model policy.
  const mp = agent.ir.model_policy;
  const model = mp && refusedModel(mp, [request.model, request.usage?.model]);
  if (model !== undefined) {
    trace?.step('model policy', `model '${model}' is not permitted`);
    return done(
      denial(
        'MODEL_DENIED',
        `denied: model '${model}' is not permitted`,
        undefined,
        'model_policy',
        redacted(),
        collectAlerts(agent, 'deny'),
      ),
      NONE,
      trace,
    );
  }

  // Spawn limits, for a call that starts a child agent.
  let spawnDelta: DeltaOp | undefined;
  const spawning = agent.ir.spawn ? spawnType(request, tool.tool) : undefined;
  if (spawning !== undefined) {
    const spawn = checkSpawn(agent.ir, spawning, state);
    trace?.step('spawn', 'refused' in spawn ? spawn.refused : `spawn '${spawning}' allowed`);
    if ('refused' in spawn)
      return done(denial('POLICY_DENY', spawn.refused, undefined, 'spawn', redacted(), collectAlerts(agent, 'deny')), NONE, trace);
    spawnDelta = spawn.delta;
  }

  // A delegation only to an agent this one declared a `delegate` grant for.
  const delegating = delegateTarget(request, tool.tool);
  const hops = (request.delegation_chain?.length ?? 0) + 1;
  if (delegating !== undefined && (hops > MAX_DELEGATION_HOPS || !agent.ir.delegates.some((d) => d.targets.includes(delegating)))) {
    const why =
      hops > MAX_DELEGATION_HOPS
        ? `denied: delegating to '${delegating}' would make a chain of ${hops} hops (at most ${MAX_DELEGATION_HOPS})`
        : `denied: agent '${request.agent_id}' has no delegate block naming '${delegating || '(no target)'}'`;
    trace?.step('delegation', why);
    return done(denial('POLICY_DENY', why, rule, 'delegate', redacted(), collectAlerts(agent, 'deny')), NONE, trace);
  }

  // 8. Delegation ceiling, then the decision.
  if (delegation && STRENGTH[effect] > STRENGTH[delegation.ceiling] && !(approved && delegation.ceiling === 'DEFER')) {
    trace?.step('delegation', `effect capped at the delegation ceiling ${delegation.ceiling}`);
    effect = delegation.ceiling;
  }
  // A `ceiling = "deny"` grant: nothing this agent does under it runs (and nothing is spent or taken).
  if (effect === 'DENY')
    return done(
      denial(
        'POLICY_DENY',
        `denied: ${tool.tool} is capped at deny by the delegation ceiling`,
        rule,
        'delegate',
        redacted(),
        collectAlerts(agent, 'deny'),
      ),
      NONE,
      trace,
    );
  const warned = signals.length > 0 && signals.some((x) => x.code === 'BUDGET_WARNING') ? 'budget_warning' : undefined;
  if (budgetDefer || effect === 'DEFER') {
    const decision: Decision = {
      effect: 'DEFER',
      code: budgetDefer ? 'BUDGET_EXCEEDED' : 'POLICY_DEFER',
      // As for a deny: a fallback (a selector with no value, a mistyped argument) says why, not the rule's reason.
      human_message: budgetDefer
        ? `deferred: ${budgetDefer.message}`
        : (matched.fallback?.message ?? rule?.reason ?? `${tool.tool} deferred for operator approval`),
      // The daemon fills in the approval id when it queues the approval.
      resolution: { type: 'pending_approval', approval_id: '' },
      // A deferral spends nothing: a warn_at it would cross is crossed, and signalled once, when the call runs.
      signals: [],
      redacted_args: redacted(),
      alerts: withRuleNotify(collectAlerts(agent, 'defer', budgetDefer ? 'budget_exceeded' : undefined), rule, 'defer'),
    };
    if (rule) decision.rule_ref = rule.ref;
    if (budgetDefer) decision.budget_id = budgetDefer.id;
    return done(decision, takenDelta, trace);
  }
  const decision: Decision = {
    effect: 'PERMIT',
    signals,
    redacted_args: redacted(),
    alerts: withRuleNotify(collectAlerts(agent, 'permit', warned, auditFlag && 'budget_exceeded'), rule, 'permit'),
  };
  if (rule) decision.rule_ref = rule.ref;
  if (auditFlag) decision.audit_flags = [auditFlag];
  let delta = spendDelta.length === 0 ? takenDelta : takenDelta.length === 0 ? spendDelta : [...takenDelta, ...spendDelta];
  if (spawnDelta) delta = [...delta, spawnDelta];
  return done(decision, delta, trace);
}

/** The alerts a decision fires, for the given `on` values (each at most once, in order). */
function collectAlerts(agent: PreparedAgent, ...ons: (string | undefined)[]): { on: string; notify: string }[] {
  const out: { on: string; notify: string }[] = [];
  for (const on of ons) {
    if (on === undefined) continue;
    const list = agent.alerts.get(on);
    if (list) for (const a of list) out.push({ on: a.on, notify: a.notify });
  }
  return out;
}

/** A rule's own `notify "…"` fires whenever that rule decides. */
function withRuleNotify(alerts: Decision['alerts'], rule: RuleIR | undefined, on: string): Decision['alerts'] {
  return rule?.notify === undefined ? alerts : [...alerts, { on, notify: rule.notify }];
}

function done(decision: Decision, stateDelta: readonly DeltaOp[], trace: Trace | undefined): DecideResult {
  trace?.step(
    'decision',
    `${decision.effect}${decision.code ? ` (${decision.code})` : ''}${decision.rule_ref ? ` — ${decision.rule_ref}` : ''}`,
  );
  return { decision, stateDelta };
}

function refuse(request: DecisionRequest, message: string, trace: Trace | undefined, stage: string, agent?: PreparedAgent): DecideResult {
  trace?.step(stage, message);
  return done(deny(message, stage, agent ? collectAlerts(agent, 'deny') : []), [], trace);
}

/** A refusal before the policy was consulted: nothing is known about redaction, so no argument values are kept. */
function deny(message: string, ruleId: string, alerts: Decision['alerts'] = []): Decision {
  return denial('POLICY_DENY', message, undefined, ruleId, {}, alerts);
}

/** A denial built in one object literal (spreads make slow, dictionary-mode objects on the hot path). */
function denial(
  code: NonNullable<Decision['code']>,
  message: string,
  rule: RuleIR | undefined,
  ruleId: string | undefined,
  redactedArgs: Record<string, unknown>,
  alerts: Decision['alerts'],
): Decision {
  const decision: Decision = {
    effect: 'DENY',
    code,
    human_message: message,
    resolution: { type: 'rule_block', rule_id: ruleId ?? rule?.ref ?? 'default' },
    signals: [],
    alerts,
    redacted_args: redactedArgs,
  };
  if (rule) decision.rule_ref = rule.ref;
  return decision;
}

function agentIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id === '') return 'denied: the call names no agent';
  if (id.length > 256 || /[\u0000-\u001f\u007f]/.test(id)) return 'denied: the agent id is malformed';
  return undefined;
}

interface Match {
  rule?: PreparedRule;
  /** A selector the matching rule reads is unavailable: its fallback effect decides. */
  fallback?: { effect: 'deny' | 'defer'; message: string };
}

/**
 * Whether the rule's host, method and path clauses match: true, false, or 'mistyped' when every
 * clause that fails reads an argument sent as something other than a string (`"host":
 * ["evil.com"]`), which names no value a clause can be compared with.
 */
function clausesMatch(rule: PreparedRule, env: CallEnv): boolean | 'mistyped' {
  const fields = env.httpFields();
  let mistyped = false;
  for (const clause of rule.clauses) {
    if (clause.test(fields)) continue;
    if (!fields.mistyped?.includes(clause.field)) return false;
    mistyped = true;
  }
  return mistyped ? 'mistyped' : true;
}

function unavailableSelector(rule: PreparedRule, env: CallEnv): { id: string; s: 'unavailable' | 'timeout' } | undefined {
  for (const id of rule.selectors) {
    const s = env.selectorState(id);
    if (s !== undefined) return { id, s };
  }
  return undefined;
}

/** Phase rules (while their phase is active) are tried before the agent's own rules. */
function activeRules(agent: PreparedAgent, state: EngineState, nowMs: number): readonly RuleSet[] {
  if (agent.phases.length === 0) return agent.ruleSets;
  const name = activePhase(agent.phases, state.policy_applied_ms, nowMs);
  const phase = name === undefined ? undefined : agent.phases.find((p) => p.name === name);
  return phase ? [phase.rules, agent.rules] : agent.ruleSets;
}

function matchRules(agent: PreparedAgent, sets: readonly RuleSet[], tool: string, env: CallEnv, trace: Trace | undefined): Match {
  for (const set of sets) {
    for (const rule of set.candidates(tool)) {
      const clauses = rule.clauses.length > 0 ? clausesMatch(rule, env) : true;
      // As for a condition: a deny or defer is not skipped because the model sent `host`, `method`
      // or `path` as another type than a string. A permit's clauses must match.
      if (clauses === false || (clauses === 'mistyped' && rule.ir.effect === 'permit')) {
        trace?.rule(rule.ir, 'no match (host, method or path clause)');
        continue;
      }
      if (rule.when) {
        const unavailable = rule.selectors.length === 0 ? undefined : unavailableSelector(rule, env);
        if (unavailable) {
          const sel = agent.selectors.get(unavailable.id)!;
          const effect = unavailable.s === 'timeout' ? sel.on_timeout : sel.on_unavailable;
          trace?.rule(rule.ir, `selector '${unavailable.id}' ${unavailable.s}: ${effect}`);
          return {
            rule,
            fallback: { effect, message: `${effect === 'deny' ? 'denied' : 'deferred'}: selector '${unavailable.id}' is ${unavailable.s}` },
          };
        }
        env.mismatch = false;
        const truth = rule.when(env);
        // A deny or defer whose condition is unknown only because an argument came as another type
        // (`"600"` against `amount > 500`) applies: the model chooses argument types, and a rule
        // meant to stop a call must not be skipped for that. A missing field still skips it.
        if (truth === undefined && env.mismatch && rule.ir.effect !== 'permit') {
          const effect = rule.ir.effect;
          trace?.rule(rule.ir, `condition unknown: it compares values of different types → ${effect.toUpperCase()}`);
          return {
            rule,
            fallback: {
              effect,
              message: `${effect === 'deny' ? 'denied' : 'deferred'}: the condition of the rule at ${rule.ir.ref} compares values of different types (an argument sent as another type or under another spelling of its name, or a path whose file depends on the tool, as ~/../x), so the rule applies`,
            },
          };
        }
        if (clauses === 'mistyped' && truth !== false) return mistypedClause(rule, trace);
        if (truth !== true) {
          trace?.rule(
            rule.ir,
            truth === false ? 'no match (condition false)' : 'no match (condition unknown: a field is missing or of another type)',
          );
          continue;
        }
      }
      if (clauses === 'mistyped') return mistypedClause(rule, trace);
      trace?.rule(rule.ir, `match → ${rule.ir.effect.toUpperCase()}`);
      return { rule };
    }
  }
  return {};
}

/** A deny or defer whose host, method or path clause met an argument of another type than a string: it applies. */
function mistypedClause(rule: PreparedRule, trace: Trace | undefined): Match {
  const effect = rule.ir.effect as 'deny' | 'defer';
  trace?.rule(rule.ir, `clause unknown: the argument it reads is not a string → ${effect.toUpperCase()}`);
  return {
    rule,
    fallback: {
      effect,
      message: `${effect === 'deny' ? 'denied' : 'deferred'}: the rule at ${rule.ir.ref} has a host, method or path clause and the call's argument of that name is not a string (or is a path whose file depends on the tool, as ~/../x), so the rule applies`,
    },
  };
}

/** The evaluation context of one call: a single object, so deciding allocates little. */
class CallEnv implements EvalEnv {
  private fields?: { host?: string; method?: string; path?: string; mistyped?: ('host' | 'method' | 'path')[] };
  mismatch = false;

  constructor(
    readonly request: DecisionRequest,
    readonly tool: string,
    private readonly agent: PreparedAgent,
    private readonly state: EngineState,
    private readonly nowMs: number,
  ) {}

  time(field: string): unknown {
    return timeField(this.nowMs, field);
  }

  session(): unknown {
    const id = this.request.session_id;
    const facts = id === undefined ? undefined : this.state.sessions[key(this.agent.ir.id, id)];
    return {
      id: id ?? null,
      ...(facts ? { duration_s: (this.nowMs - facts.started_ms) / 1000, idle_s: (this.nowMs - facts.last_ms) / 1000 } : {}),
    };
  }

  delegation(): unknown {
    const chain = this.request.delegation_chain ?? [];
    return { depth: chain.length, chain: chain.map((h) => h.agent_id) };
  }

  selector(id: string): unknown {
    const entry = this.state.selectors[key(this.agent.ir.id, id)];
    return entry && !entry.error && 'value' in entry ? entry.value : MISSING;
  }

  /** A selector with no usable value: which fallback applies. */
  selectorState(id: string): 'unavailable' | 'timeout' | undefined {
    const entry = this.state.selectors[key(this.agent.ir.id, id)];
    if (!entry) return 'unavailable';
    if (entry.error) return entry.error;
    const declared = this.agent.selectors.get(id);
    if (entry.source !== undefined && entry.source !== declared?.source) return 'unavailable';
    const ttl = declared?.cache_s;
    return ttl !== undefined && this.nowMs - entry.fetched_ms > ttl * 1000 ? 'unavailable' : undefined;
  }

  /** HTTP fields for host/method/path clauses: from the proxy, else the arguments of those names. */
  httpFields(): { host?: string; method?: string; path?: string; mistyped?: ('host' | 'method' | 'path')[] } {
    if (!this.fields) {
      const args = this.request.args ?? {};
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      const http = this.request.http;
      const host = http?.host ?? str(args.host);
      const method = http?.method ?? str(args.method);
      // A path argument is judged where it leads (`/tmp/../etc` is `/etc`), as a condition on `path` reads it.
      const argPath = str(args.path);
      const unclear = http?.path === undefined && argPath !== undefined && ambiguousPath(argPath);
      const path = http?.path ?? (argPath === undefined || unclear ? undefined : lexicalPath(argPath));
      // An argument of one of these names that is there but not a string (`["evil.com"]`), or a
      // path whose file depends on the tool (`~/../x`).
      const mistyped = (['host', 'method', 'path'] as const).filter(
        (k) =>
          (k === 'path' && unclear) ||
          (http?.[k] === undefined && Object.hasOwn(args, k) && args[k] !== null && args[k] !== undefined && typeof args[k] !== 'string'),
      );
      this.fields = {
        ...(host !== undefined ? { host } : {}),
        ...(method !== undefined ? { method } : {}),
        ...(path !== undefined ? { path } : {}),
        ...(mistyped.length > 0 ? { mistyped } : {}),
      };
    }
    return this.fields;
  }
}

/** Session bounds: a session past `max_duration` or idle past `idle_timeout` is over. */
function checkSession(agent: PreparedAgent, request: DecisionRequest, state: EngineState, nowMs: number): readonly DeltaOp[] | string {
  if (request.session_id === undefined || !agent.tracksSessions) return NONE;
  const k = key(agent.ir.id, request.session_id);
  const facts = state.sessions[k];
  const bounds = agent.ir.session;
  if (facts && bounds) {
    if (bounds.max_duration_s !== undefined && nowMs - facts.started_ms > bounds.max_duration_s * 1000)
      return `denied: session ${request.session_id} exceeded its max_duration`;
    if (bounds.idle_timeout_s !== undefined && nowMs - facts.last_ms > bounds.idle_timeout_s * 1000)
      return `denied: session ${request.session_id} timed out after ${bounds.idle_timeout_s}s idle`;
  }
  return [{ kind: 'session', key: k, started_ms: facts?.started_ms ?? nowMs, last_ms: nowMs }];
}

/** The longest delegation chain a token may carry: a delegation past it is refused when asked for. */
export const MAX_DELEGATION_HOPS = 8;

/**
 * A delegated call (non-empty chain) is allowed only if the agent that delegated declared a
 * `delegate` block naming this agent, within its ttl; the result never exceeds its ceiling.
 */
function checkDelegation(
  policy: PreparedPolicy,
  request: DecisionRequest,
  tool: string,
  nowMs: number,
): { ceiling: Effect } | undefined | string {
  const chain = request.delegation_chain;
  if (!chain || chain.length === 0) return undefined;
  let ceiling: Effect = 'PERMIT';
  let target = request.agent_id;
  for (let i = chain.length - 1; i >= 0; i--) {
    const hop = chain[i]!;
    const from = policy.agents.get(hop.agent_id);
    const grant: DelegateIR | undefined = from?.ir.delegates.find((d) => d.targets.includes(target));
    if (!grant) return `denied: agent '${hop.agent_id}' may not delegate to '${target}'`;
    // Every hop's scope holds: work handed on can only narrow.
    if (grant.scope && !grant.scope.some((p) => matchTool(p, tool)))
      return `denied: ${tool} is outside the scope of the delegation from '${hop.agent_id}' (${grant.scope.join(', ')})`;
    if (grant.ttl_s !== undefined) {
      const issued = hop.issued_at === undefined ? NaN : Date.parse(hop.issued_at);
      if (!Number.isFinite(issued) || nowMs > issued + grant.ttl_s * 1000)
        return `denied: the delegation from '${hop.agent_id}' to '${target}' has expired (ttl ${grant.ttl_s}s)`;
    }
    const cap: Effect | undefined =
      grant.ceiling === 'permit'
        ? 'PERMIT'
        : grant.ceiling === 'defer' || grant.ceiling === 'approval'
          ? 'DEFER'
          : grant.ceiling === 'deny'
            ? 'DENY'
            : undefined;
    if (cap && STRENGTH[cap] < STRENGTH[ceiling]) ceiling = cap;
    target = hop.agent_id;
  }
  return { ceiling };
}

import type { BlockNode, RateLimitNode, RedactNode, UseNode } from '../syntax/ast.js';
import { didYouMean } from '../syntax/suggest.js';
import { emptyAgent, type AgentIR, type BudgetIR, type IRValue, type PhaseIR, type RuleIR } from '../ir.js';
import { BLOCKS, NOTIFY_SCHEMES, WINDOWS } from '../schema.js';
import type { LowerContext } from './context.js';
import type { Scope } from './expr.js';
import { checkLabels, walkBody, type Fields } from './fields.js';
import { normaliseEgressHost } from './hosts.js';
import { lowerRule, lowerToolPattern } from './rules.js';
import { anyValue } from './values.js';

const str = (f: Fields, k: string) => f.values.get(k) as string | undefined;
const num = (f: Fields, k: string) => f.values.get(k) as number | undefined;
const list = (f: Fields, k: string) => (f.values.get(k) as string[] | undefined) ?? [];

/** Copy the defined entries only, so absent fields stay absent in the IR. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function lowerAgent(ctx: LowerContext, block: BlockNode): AgentIR {
  const id = checkLabels(ctx, block, BLOCKS.agent!) ?? '';
  // Vars and selector names are visible to every rule of the agent, wherever they are declared.
  const vars = new Map<string, IRValue>();
  for (const item of block.body) {
    if (item.kind !== 'Var') continue;
    if (vars.has(item.name)) ctx.error(item.nameSpan, 'duplicate-var', `var '${item.name}' is declared twice in agent "${id}"`);
    else vars.set(item.name, anyValue(ctx, item.value));
  }
  const selectors = new Set(
    block.body.flatMap((i) => (i.kind === 'Block' && i.type === 'selector' && i.labels[0] ? [i.labels[0].value] : [])),
  );
  const scope: Scope = { vars, selectors };

  const agent: AgentIR = { ...emptyAgent(id, ctx.ref(block.span)), vars: Object.fromEntries(vars) };

  ctx.track(agent, block.labels[0]?.span ?? block.typeSpan);
  const addRule = (rule: RuleIR | undefined) => rule && agent.rules.push(rule);

  const fields = walkBody(ctx, block, BLOCKS.agent!, {
    rule: (node) => addRule(lowerRule(ctx, node, scope)),
    rate_limit: (node) => lowerRateLimit(ctx, node, agent),
    redact: (node) => lowerRedact(ctx, node, agent),
    cost: (node) => {
      const pattern = lowerToolPattern(ctx, node.pattern);
      if (!Number.isFinite(node.amount.value) || node.amount.value < 0)
        ctx.error(node.amount.span, 'invalid-value', 'a cost is a non-negative dollar amount');
      else if (pattern !== undefined) agent.costs.push({ pattern, usd: node.amount.value, ref: ctx.ref(node.span) });
    },
    var: () => undefined,
    use: (node) => lowerUse(ctx, node, agent),
    block: (node) => {
      switch (node.type) {
        case 'rules':
          walkBody(ctx, node, BLOCKS.rules!, { rule: (r) => addRule(lowerRule(ctx, r, scope)) });
          break;
        case 'phase':
          agent.phases.push(lowerPhase(ctx, node, scope));
          break;
        default:
          lowerAgentBlock(ctx, node, agent);
      }
    },
  });
  const effect = str(fields, 'default');
  if (effect) agent.default = effect as AgentIR['default'];
  for (const key of ['model', 'framework', 'version'] as const) {
    const v = str(fields, key);
    if (v !== undefined) agent[key] = v;
  }
  return agent;
}

function lowerAgentBlock(ctx: LowerContext, node: BlockNode, agent: AgentIR): void {
  const spec = BLOCKS[node.type]!;
  const label = checkLabels(ctx, node, spec);
  const f = walkBody(ctx, node, spec, {});
  const ref = ctx.ref(node.span);
  switch (node.type) {
    case 'budget':
      lowerBudget(ctx, node, f, label, agent);
      break;
    case 'egress':
      agent.egress = { allow: hosts(ctx, f, 'allow'), deny: hosts(ctx, f, 'deny'), ref };
      break;
    case 'model_policy':
      agent.model_policy = { allow: list(f, 'allow'), deny: list(f, 'deny'), ref };
      break;
    case 'session':
      agent.session = defined({ max_duration_s: num(f, 'max_duration'), idle_timeout_s: num(f, 'idle_timeout'), ref });
      break;
    case 'spawn':
      agent.spawn = defined({
        max_concurrent: num(f, 'max_concurrent'),
        allowed_types: list(f, 'allowed_types'),
        allow: list(f, 'allow'),
        ref,
      });
      break;
    case 'completion_gate':
      agent.completion_gate = { require: list(f, 'require'), ref };
      break;
    case 'enforcement':
      agent.enforcement = Object.fromEntries(f.values);
      break;
    case 'ambient':
      agent.ambient = Object.fromEntries(f.values);
      break;
    case 'alert': {
      const on = str(f, 'on');
      const notify = str(f, 'notify');
      if (on === undefined || notify === undefined) {
        if (!f.nodes.has('on') || !f.nodes.has('notify'))
          ctx.error(
            node.typeSpan,
            'missing-field',
            "alert needs both 'on' and 'notify'",
            'alert { on = "deny" notify = "slack://#sec-alerts" }',
          );
        break;
      }
      const scheme = /^([a-z]+):\/\//.exec(notify)?.[1];
      if (!scheme || !(NOTIFY_SCHEMES as readonly string[]).includes(scheme)) {
        ctx.error(
          f.nodes.get('notify')![0]!.value.span,
          'invalid-value',
          `alert notify must be a ${NOTIFY_SCHEMES.map((s) => `${s}://`).join(', ')} address`,
          scheme ? didYouMean(scheme, NOTIFY_SCHEMES) : undefined,
        );
        break;
      }
      agent.alerts.push({ on, notify, ref });
      break;
    }
    case 'delegate': {
      const target = str(f, 'target_agent') ?? label;
      const targets = f.values.has('to') ? list(f, 'to') : target ? [target] : [];
      if (targets.length === 0) ctx.error(node.typeSpan, 'missing-field', 'delegate needs a target: target_agent = "…" or to = ["…"]');
      if (list(f, 'inherits').length > 0)
        ctx.warning(
          f.nodes.get('inherits')![0]!.value.span,
          'unsupported',
          'delegate inherits is not available in this build (a worker spends only its own budgets): apply will refuse it',
          'give the worker its own budget',
        );
      const scope: string[] = [];
      for (const t of list(f, 'scope')) {
        const p = lowerToolPattern(ctx, { value: t, span: f.nodes.get('scope')![0]!.value.span });
        if (p) scope.push(p);
      }
      agent.delegates.push(
        ctx.track(
          defined({
            targets,
            scope: f.values.has('scope') ? scope : undefined,
            ttl_s: num(f, 'ttl'),
            ceiling: str(f, 'ceiling'),
            inherits: list(f, 'inherits'),
            ref,
          }),
          node.typeSpan,
        ),
      );
      break;
    }
    case 'selector': {
      const source = str(f, 'source');
      if (source === undefined && !f.nodes.has('source'))
        ctx.error(node.typeSpan, 'missing-field', `selector "${label ?? ''}" needs a source = "https://…"`);
      agent.selectors.push(
        defined({
          id: label ?? '',
          source: source ?? '',
          cache_s: num(f, 'cache'),
          on_unavailable: (str(f, 'on_unavailable') ?? 'deny') as 'deny' | 'defer',
          on_timeout: (str(f, 'on_timeout') ?? 'deny') as 'deny' | 'defer',
          ref,
        }),
      );
      break;
    }
    case 'credential': {
      if (!label) ctx.error(node.typeSpan, 'missing-label', 'credential needs a name: credential "<id>" { … }');
      const tools: string[] = [];
      for (const t of list(f, 'tools')) {
        const p = lowerToolPattern(ctx, { value: t, span: f.nodes.get('tools')![0]!.value.span });
        if (p) tools.push(p);
      }
      agent.credentials.push(
        ctx.track(
          defined({
            id: label ?? '',
            provider: f.values.get('provider') ?? f.values.get('backend'),
            path: str(f, 'path'),
            scope: list(f, 'scope'),
            ttl_s: num(f, 'ttl'),
            max_scope: str(f, 'max_scope'),
            tools,
            header: str(f, 'header'),
            cleartext: f.values.get('cleartext') === true ? true : undefined,
            ref,
          }),
          node.typeSpan,
        ),
      );
      break;
    }
  }
}

function lowerBudget(ctx: LowerContext, node: BlockNode, f: Fields, label: string | undefined, agent: AgentIR): void {
  const id = label ?? str(f, 'id');
  if (!id) {
    ctx.error(node.typeSpan, 'missing-label', 'budget needs an id: budget daily { … } or budget session { … }');
    return;
  }
  const first = agent.budgets.find((b) => b.id === id);
  if (first) {
    ctx.error(node.typeSpan, 'duplicate-block', `budget '${id}' is declared twice in agent "${agent.id}" (first at ${first.ref})`);
    return;
  }
  const budget: BudgetIR = defined({
    id,
    max: num(f, 'max') ?? num(f, 'usd'),
    daily: num(f, 'daily'),
    max_calls: num(f, 'max_calls'),
    warn_at: num(f, 'warn_at'),
    on_exceed: (str(f, 'on_exceed') ?? 'deny') as BudgetIR['on_exceed'],
    window: id === 'session' ? 'session' : 'day',
    scope: str(f, 'scope') as BudgetIR['scope'],
    ref: ctx.ref(node.span),
  });
  if (budget.scope === 'fleet')
    ctx.warning(
      f.nodes.get('scope')![0]!.value.span,
      'unsupported',
      `budget '${id}': fleet-wide budgets are not available in this build (each daemon would count its own): apply will refuse it`,
      'drop scope = "fleet": the budget is then per agent, on this daemon',
    );
  if (
    budget.max === undefined &&
    budget.daily === undefined &&
    budget.max_calls === undefined &&
    f.nodes.size > 0 &&
    !['max', 'usd', 'daily', 'max_calls'].some((k) => f.nodes.has(k))
  ) {
    ctx.error(node.typeSpan, 'missing-field', `budget '${id}' sets no limit: give it max, daily or max_calls`);
  }
  agent.budgets.push(budget);
}

function lowerRateLimit(ctx: LowerContext, node: RateLimitNode, agent: AgentIR): void {
  const pattern = lowerToolPattern(ctx, node.pattern);
  const limit = node.limit.value;
  if (!Number.isInteger(limit) || limit < 1)
    ctx.error(node.limit.span, 'invalid-value', `rate_limit needs a whole number of calls of at least 1, got ${node.limit.raw}`);
  const window = node.window.value;
  if (!Object.hasOwn(WINDOWS, window)) {
    const singular = window.replace(/s$/, '');
    ctx.error(
      node.window.span,
      'invalid-value',
      `unknown rate window '${window}': use second, minute, hour or day`,
      Object.hasOwn(WINDOWS, singular) ? `did you mean '${singular}'?` : didYouMean(window, Object.keys(WINDOWS)),
    );
    return;
  }
  if (pattern === undefined || !Number.isInteger(limit) || limit < 1) return;
  const w = window as keyof typeof WINDOWS;
  agent.rate_limits.push({ pattern, limit, window: w, window_s: WINDOWS[w], ref: ctx.ref(node.span) });
}

function lowerRedact(ctx: LowerContext, node: RedactNode, agent: AgentIR): void {
  const tool = lowerToolPattern(ctx, node.tool);
  const paths: string[] = [];
  for (const item of node.paths.items) {
    if ((item.kind !== 'String' && item.kind !== 'Word') || item.value === '') {
      ctx.error(item.span, 'invalid-value', 'redact paths are non-empty quoted strings such as "card.number" or "items[*].card"');
      return;
    }
    paths.push(item.value);
  }
  if (tool !== undefined) agent.redactions.push({ tool, paths, ref: ctx.ref(node.span) });
}

function lowerUse(ctx: LowerContext, node: UseNode, agent: AgentIR): void {
  const params: Record<string, IRValue> = {};
  for (const p of node.params) params[p.name] = anyValue(ctx, p.value);
  agent.uses.push(ctx.track({ alias: node.alias.value, params, ref: ctx.ref(node.span) }, node.span));
}

function lowerPhase(ctx: LowerContext, node: BlockNode, scope: Scope): PhaseIR {
  const name = checkLabels(ctx, node, BLOCKS.phase!) ?? '';
  const rules: RuleIR[] = [];
  const add = (r: RuleIR | undefined) => r && rules.push(r);
  const f = walkBody(ctx, node, BLOCKS.phase!, {
    rule: (r) => add(lowerRule(ctx, r, scope)),
    block: (b) => walkBody(ctx, b, BLOCKS.rules!, { rule: (r) => add(lowerRule(ctx, r, scope)) }),
  });
  // The tools the phase governs (the engine tries its rules for these alone): patterns like a rule's.
  const tools = f.values.has('tools')
    ? list(f, 'tools').flatMap((t) => lowerToolPattern(ctx, { value: t, span: f.nodes.get('tools')![0]!.value.span }) ?? [])
    : [...new Set(rules.map((r) => r.tool))];
  return defined({ name, duration_s: num(f, 'duration'), next: str(f, 'next'), tools, rules, ref: ctx.ref(node.span) });
}

function hosts(ctx: LowerContext, f: Fields, key: 'allow' | 'deny'): string[] {
  const node = f.nodes.get(key)?.[0];
  const out: string[] = [];
  for (const h of list(f, key)) {
    const normalised = normaliseEgressHost(h);
    if (typeof normalised !== 'string')
      ctx.error(node!.value.span, 'invalid-value', `egress ${key} entry '${h}' ${normalised.problem}`, normalised.hint);
    else out.push(normalised);
  }
  return out;
}

/**
 * A policy prepared for deciding: conditions compiled to closures, regexes compiled once, and
 * rules indexed by their literal tool prefix so matching stays nearly flat as policies grow.
 * Preparing is pure and deterministic; the daemon does it once per applied policy.
 */
import {
  emptyAgent,
  matchTool,
  type AgentIR,
  type AlertIR,
  type PolicyIR,
  type RateLimitIR,
  type RuleIR,
  type SelectorIR,
} from '@faramesh/fpl/runtime';
import { compileCondition, type Predicate } from './conditions.js';
import { hostMatches, normaliseHost } from './stages/egress.js';
import { parsePath } from './stages/redact.js';
import { pathSpellings } from './paths.js';

export interface PreparedRule {
  ir: RuleIR;
  position: number;
  when?: Predicate;
  /** HTTP clauses: each must match the request's HTTP field (or the argument of that name). */
  clauses: { field: 'host' | 'method' | 'path'; test: (fields: { host?: string; method?: string; path?: string }) => boolean }[];
  /** Selector ids the condition reads: an unavailable one applies its fallback effect. */
  selectors: string[];
}

export class RuleSet {
  readonly rules: PreparedRule[];
  private readonly exact = new Map<string, PreparedRule[]>();
  private readonly byFirstSegment = new Map<string, PreparedRule[]>();
  private readonly wild: PreparedRule[] = [];
  /** Candidate lists by tool id; bounded, so a stream of distinct tool ids cannot grow it forever. */
  private readonly cache = new Map<string, PreparedRule[]>();

  /**
   * `scope`: the tool patterns a phase governs (its `tools`). Its rules decide only calls to those
   * tools: `permit stripe/*` in a phase for `["stripe/charge"]` must not permit `stripe/payouts`.
   */
  constructor(
    rules: readonly RuleIR[],
    private readonly scope?: readonly string[],
  ) {
    this.rules = rules.map((ir, position) => prepareRule(ir, position));
    for (const rule of this.rules) {
      const pattern = rule.ir.tool;
      if (!pattern.includes('*')) push(this.exact, pattern, rule);
      else {
        const first = pattern.split('/', 1)[0]!;
        if (first.includes('*') || !pattern.includes('/')) this.wild.push(rule);
        else push(this.byFirstSegment, first, rule);
      }
    }
  }

  /** The rules whose pattern matches `tool`, in policy order. */
  candidates(tool: string): PreparedRule[] {
    const hit = this.cache.get(tool);
    if (hit) return hit;
    const first = tool.split('/', 1)[0]!;
    const pool =
      this.scope && !this.scope.some((p) => matchTool(p, tool))
        ? []
        : [...(this.exact.get(tool) ?? []), ...(this.byFirstSegment.get(first) ?? []), ...this.wild];
    const list = pool.filter((r) => matchTool(r.ir.tool, tool)).sort((a, b) => a.position - b.position);
    if (this.cache.size >= 4096) this.cache.clear();
    this.cache.set(tool, list);
    return list;
  }
}

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
  const list = map.get(k);
  if (list) list.push(v);
  else map.set(k, [v]);
}

function prepareRule(ir: RuleIR, position: number): PreparedRule {
  const clauses: PreparedRule['clauses'] = [];
  if (ir.host !== undefined) {
    const pattern = ir.host;
    clauses.push({ field: 'host', test: (f) => f.host !== undefined && globHost(pattern, normaliseHost(f.host)) });
  }
  if (ir.method !== undefined) {
    const method = ir.method;
    clauses.push({ field: 'method', test: (f) => f.method !== undefined && (method === '*' || f.method.toUpperCase() === method) });
  }
  if (ir.path !== undefined) {
    const pattern = ir.path;
    const test = (p: string) => (pattern.includes('*') ? matchTool(pattern, p) : p === pattern);
    // A relative path argument has two spellings (`./drafts/x` is `drafts/x`): a pattern written either way meets it.
    clauses.push({ field: 'path', test: (f) => f.path !== undefined && pathSpellings(f.path.split('?')[0]!).some(test) });
  }
  return { ir, position, ...(ir.when ? { when: compileCondition(ir.when) } : {}), clauses, selectors: ir.when ? selectorsOf(ir.when) : [] };
}

function globHost(pattern: string, host: string): boolean {
  if (pattern === '*') return host !== '';
  if (pattern.startsWith('*.')) return hostMatches(pattern, host);
  return pattern === host;
}

/** Whether a condition reads `session.*` (its duration or idle time). */
function readsSession(expr: unknown): boolean {
  if (expr === null || typeof expr !== 'object') return false;
  const v = (expr as { var?: unknown }).var;
  if (Array.isArray(v) && v[0] === 'session') return true;
  return Object.values(expr).some(readsSession);
}

function selectorsOf(expr: unknown): string[] {
  const found = new Set<string>();
  const walk = (e: unknown): void => {
    if (e === null || typeof e !== 'object') return;
    if ('selector' in e && typeof (e as { selector: unknown }).selector === 'string') found.add((e as { selector: string }).selector);
    for (const v of Object.values(e)) walk(v);
  };
  walk(expr);
  return [...found];
}

/** What an agent's policy says about one tool beyond its rules: computed once per tool id. */
export interface ToolFacts {
  limits: RateLimitIR[];
  redactPaths: string[];
  /** `redactPaths`, split into segments once. */
  redactSegments: string[][];
  /** The first declared `cost` matching the tool, in dollars. */
  declaredCost?: number;
}

export class PreparedAgent {
  readonly rules: RuleSet;
  /** The rule sets tried when no phase is active. */
  readonly ruleSets: readonly RuleSet[];
  readonly phases: { name: string; duration_s?: number; next?: string; rules: RuleSet }[];
  readonly selectors: Map<string, SelectorIR>;
  /** Alerts by the `on` value they fire on. */
  readonly alerts = new Map<string, AlertIR[]>();
  /**
   * Whether the agent's sessions are kept (start and last call): only for `session { }` bounds or a
   * rule reading `session.*`. Kept for every session id otherwise, they would grow the state (and
   * its snapshot) by every session an MCP client or SDK ever opened.
   */
  readonly tracksSessions: boolean;
  private readonly facts = new Map<string, ToolFacts>();

  constructor(readonly ir: AgentIR) {
    this.rules = new RuleSet(ir.rules);
    this.ruleSets = [this.rules];
    this.phases = ir.phases.map((p) => ({
      name: p.name,
      ...(p.duration_s !== undefined ? { duration_s: p.duration_s } : {}),
      ...(p.next !== undefined ? { next: p.next } : {}),
      rules: new RuleSet(p.rules, p.tools),
    }));
    this.selectors = new Map(ir.selectors.map((s) => [s.id, s]));
    this.tracksSessions = ir.session !== undefined || [...ir.rules, ...ir.phases.flatMap((p) => p.rules)].some((r) => readsSession(r.when));
    for (const a of ir.alerts) this.alerts.set(a.on, [...(this.alerts.get(a.on) ?? []), a]);
  }

  toolFacts(tool: string): ToolFacts {
    let f = this.facts.get(tool);
    if (!f) {
      const redactPaths = this.ir.redactions.filter((r) => matchTool(r.tool, tool)).flatMap((r) => r.paths);
      const declared = this.ir.costs.find((c) => matchTool(c.pattern, tool));
      f = {
        limits: this.ir.rate_limits.filter((l) => matchTool(l.pattern, tool)),
        redactPaths,
        redactSegments: redactPaths.map(parsePath),
        ...(declared ? { declaredCost: declared.usd } : {}),
      };
      if (this.facts.size >= 4096) this.facts.clear();
      this.facts.set(tool, f);
    }
    return f;
  }
}

export interface PreparedPolicy {
  ir: PolicyIR;
  agents: Map<string, PreparedAgent>;
  /** Top-level flat rules as the policy of agents without a block; absent when there are none. */
  flat?: PreparedAgent;
}

export function prepare(ir: PolicyIR): PreparedPolicy {
  const agents = new Map<string, PreparedAgent>();
  for (const agent of ir.agents) agents.set(agent.id, prepareAgent(agent));
  const policy: PreparedPolicy = { ir, agents };
  if (ir.rules.length > 0) {
    const anonymous: AgentIR = { ...emptyAgent('', ''), rules: ir.rules };
    policy.flat = prepareAgent(anonymous);
  }
  return policy;
}

function prepareAgent(agent: AgentIR): PreparedAgent {
  return new PreparedAgent(agent);
}

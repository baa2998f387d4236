/**
 * The policy diff of `faramesh plan`: what changed between the applied policy and the new one, at
 * the level of the compiled IR (so layout and comments never count). Items are matched by what
 * names them (a budget by id, a provider by name, a runtime setting by key); rules, which have no
 * names, are matched by an edit script over each rule list, and a rule removed and another added
 * for the same tool in the same place read as one change.
 */
import {
  emptyAgent,
  emptyPolicy,
  stripPositions,
  type AgentIR,
  type AlertIR,
  type BudgetIR,
  type CostIR,
  type CredentialIR,
  type DelegateIR,
  type HttpRouteIR,
  type ImportIR,
  type IRValue,
  type McpServerIR,
  type PhaseIR,
  type PolicyIR,
  type ProviderIR,
  type RateLimitIR,
  type RedactionIR,
  type RuleIR,
  type SelectorIR,
  type TrustKeyIR,
  type UseIR,
} from '@faramesh/fpl';
import { canonicalJson } from '@faramesh/protocol';
import { plural } from '../../output.js';
import { ruleText, valueText } from '../../rule-text.js';

export type Change = 'added' | 'removed' | 'changed';

export interface DiffEntry {
  change: Change;
  /** `rule`, `rate_limit`, `budget`, `provider`, `runtime`, …: the JSON groups them by kind. */
  kind: string;
  /** The agent the item belongs to (`(top level)` for the flat rules); absent for stack-wide items. */
  agent?: string;
  /** What changed: a rule's text, `daily.max`, a provider's name, a runtime key. */
  subject: string;
  old?: string;
  new?: string;
}

const TOP_LEVEL = '(top level)';
/** Canonical JSON without positions: the applied policy is read back from a file whose keys are sorted. */
const signature = (x: unknown) => canonicalJson(stripPositions(x ?? null));
const same = (a: unknown, b: unknown) => signature(a) === signature(b);

/** How items of one kind are named, shown, and compared field by field (else as a whole). */
interface Kind<T> {
  kind: string;
  key: (item: T) => string;
  show: (item: T) => string;
  fields?: (item: T) => Record<string, unknown>;
}

/** Everything but the name and the position, field by field. */
const restOf =
  <T extends { ref: string }>(name: keyof T) =>
  (item: T): Record<string, unknown> =>
    Object.fromEntries(Object.entries(item).filter(([k]) => k !== name && k !== 'ref'));
const withType = (p: ProviderIR) => ({ type: p.type, ...p.fields });
const quoted = (name: string) => `"${name}"`;

const PROVIDER: Kind<ProviderIR> = { kind: 'provider', key: (p) => p.name, show: (p) => `"${p.name}" (${p.type})`, fields: withType };
const IDENTITY: Kind<ProviderIR> = { ...PROVIDER, kind: 'identity' };
const MCP_SERVER: Kind<McpServerIR> = { kind: 'mcp_server', key: (m) => m.name, show: (m) => quoted(m.name), fields: restOf('name') };
const HTTP_ROUTE: Kind<HttpRouteIR> = {
  kind: 'http_route',
  key: (r) => `${r.method} ${r.path}`,
  show: (r) => `${r.method} ${r.path} → ${r.tool}`,
};
// The path already ends in `@<version>`.
const IMPORT: Kind<ImportIR> = { kind: 'import', key: (i) => i.path, show: (i) => i.path };
const PACK: Kind<PolicyIR['packs'][number]> = {
  kind: 'pack',
  key: (p) => p.name,
  show: (p) => `${p.name}${p.version ? `@${p.version}` : ''}`,
};
const TRUST_KEY: Kind<TrustKeyIR> = { kind: 'trust', key: (k) => `key ${k.registry}`, show: (k) => `key ${k.registry}` };
const TRUST_ENTRY: Kind<PolicyIR['trust']['entries'][number]> = {
  kind: 'trust',
  key: (e) => `${e.keyword} ${e.subject ?? ''}`.trim(),
  show: (e) => `${e.keyword} ${e.subject ?? ''}`.trim(),
};
const PHASE: Kind<PhaseIR> = {
  kind: 'phase',
  key: (p) => p.name,
  show: (p) => quoted(p.name),
  fields: (p) => ({ duration_s: p.duration_s ?? null, next: p.next ?? null, tools: p.tools }),
};
const RATE_LIMIT: Kind<RateLimitIR> = {
  kind: 'rate_limit',
  key: (l) => l.pattern,
  show: (l) => `"${l.pattern}": ${l.limit} per ${l.window}`,
};
const BUDGET: Kind<BudgetIR> = { kind: 'budget', key: (b) => b.id, show: budgetText, fields: restOf('id') };
const CREDENTIAL: Kind<CredentialIR> = { kind: 'credential', key: (c) => c.id, show: (c) => quoted(c.id), fields: restOf('id') };
const SELECTOR: Kind<SelectorIR> = { kind: 'selector', key: (x) => x.id, show: (x) => quoted(x.id), fields: restOf('id') };
const REDACTION: Kind<RedactionIR> = { kind: 'redaction', key: (r) => r.tool, show: (r) => `${r.tool}: ${r.paths.join(', ')}` };
const COST: Kind<CostIR> = { kind: 'cost', key: (c) => c.pattern, show: (c) => `"${c.pattern}": $${c.usd}` };
const ALERT: Kind<AlertIR> = { kind: 'alert', key: (a) => `${a.on} → ${a.notify}`, show: (a) => `on ${a.on} notify ${a.notify}` };
const DELEGATE: Kind<DelegateIR> = {
  kind: 'delegate',
  key: (d) => d.targets.join(', '),
  show: (d) => d.targets.join(', '),
  fields: restOf('targets'),
};
const USE: Kind<UseIR> = { kind: 'use', key: (u) => u.alias, show: (u) => u.alias };

/** Every difference from `before` (undefined: nothing applied yet) to `after`, in a stable order. */
export function diffPolicies(before: PolicyIR | undefined, after: PolicyIR): DiffEntry[] {
  const out: DiffEntry[] = [];
  const old = before ?? emptyPolicy();
  diffRules(out, TOP_LEVEL, old.rules, after.rules);
  const previous = new Map(old.agents.map((a) => [a.id, a]));
  const current = new Set(after.agents.map((a) => a.id));
  for (const a of old.agents) if (!current.has(a.id)) out.push({ change: 'removed', kind: 'agent', subject: quoted(a.id) });
  for (const agent of after.agents) {
    const was = previous.get(agent.id);
    if (!was) out.push({ change: 'added', kind: 'agent', subject: `"${agent.id}" (${plural(agent.rules.length, 'rule')})` });
    // A new agent is compared with an empty one: everything it declares is listed as added.
    diffAgent(out, was ?? emptyAgent(agent.id, ''), agent);
  }
  keyed(out, PROVIDER, undefined, old.providers, after.providers);
  keyed(out, IDENTITY, undefined, old.identities, after.identities);
  keyed(out, MCP_SERVER, undefined, old.mcp_servers, after.mcp_servers);
  keyed(out, HTTP_ROUTE, undefined, old.http_routes ?? [], after.http_routes ?? []);
  keyed(out, IMPORT, undefined, old.imports, after.imports);
  keyed(out, PACK, undefined, old.packs, after.packs);
  keyed(out, TRUST_KEY, undefined, old.trust.keys, after.trust.keys);
  keyed(out, TRUST_ENTRY, undefined, old.trust.entries, after.trust.entries);
  settings(out, 'runtime', undefined, old.runtime, after.runtime);
  return out;
}

function diffAgent(out: DiffEntry[], was: AgentIR, now: AgentIR): void {
  const id = now.id;
  const declared = ({ default: fallback, model, framework, version }: AgentIR) =>
    JSON.parse(JSON.stringify({ default: fallback, model, framework, version })) as Record<string, IRValue>;
  settings(out, 'setting', id, declared(was), declared(now));
  diffRules(out, id, was.rules, now.rules);
  keyed(out, PHASE, id, was.phases, now.phases);
  const phases = new Map(was.phases.map((p) => [p.name, p]));
  for (const p of now.phases) diffRules(out, `${id} phase "${p.name}"`, phases.get(p.name)?.rules ?? [], p.rules);
  keyed(out, RATE_LIMIT, id, was.rate_limits, now.rate_limits);
  keyed(out, BUDGET, id, was.budgets, now.budgets);
  keyed(out, CREDENTIAL, id, was.credentials, now.credentials);
  keyed(out, SELECTOR, id, was.selectors, now.selectors);
  keyed(out, REDACTION, id, was.redactions, now.redactions);
  keyed(out, COST, id, was.costs, now.costs);
  keyed(out, ALERT, id, was.alerts, now.alerts);
  keyed(out, DELEGATE, id, was.delegates, now.delegates);
  keyed(out, USE, id, was.uses, now.uses);
  for (const block of ['egress', 'model_policy', 'session', 'spawn', 'completion_gate'] as const)
    if (!same(was[block], now[block])) out.push(blockChange(block, id, was[block], now[block]));
  settings(out, 'var', id, was.vars, now.vars);
  settings(out, 'enforcement', id, was.enforcement ?? {}, now.enforcement ?? {});
  settings(out, 'ambient', id, was.ambient ?? {}, now.ambient ?? {});
}

const changed = (kind: string, agent: string | undefined, subject: string, old: string, now: string): DiffEntry => ({
  change: 'changed',
  kind,
  ...(agent !== undefined ? { agent } : {}),
  subject,
  old,
  new: now,
});

function blockChange(kind: string, agent: string, was: object | undefined, now: object | undefined): DiffEntry {
  const text = (b: object | undefined) => (b === undefined ? '(none)' : JSON.stringify(stripPositions(b)));
  if (was === undefined) return { change: 'added', kind, agent, subject: text(now) };
  if (now === undefined) return { change: 'removed', kind, agent, subject: text(was) };
  return changed(kind, agent, kind, text(was), text(now));
}

/** Key/value settings (runtime, vars, enforcement): one entry per key that differs. */
function settings(
  out: DiffEntry[],
  kind: string,
  agent: string | undefined,
  was: Record<string, IRValue>,
  now: Record<string, IRValue>,
): void {
  for (const key of [...new Set([...Object.keys(was), ...Object.keys(now)])].sort()) {
    if (same(was[key], now[key])) continue;
    out.push(
      key in was && key in now
        ? changed(kind, agent, key, valueText(was[key]), valueText(now[key]))
        : {
            change: key in now ? 'added' : 'removed',
            kind,
            ...(agent !== undefined ? { agent } : {}),
            subject: `${key} = ${valueText(now[key] ?? was[key])}`,
          },
    );
  }
}

/** Items named by a key: added, removed, and changed (whole, or field by field); unchanged ones say nothing. */
function keyed<T>(out: DiffEntry[], spec: Kind<T>, agent: string | undefined, was: readonly T[], now: readonly T[]): void {
  const { kind, key, show, fields } = spec;
  const scope = agent !== undefined ? { agent } : {};
  const before = byKey(was, key);
  const after = byKey(now, key);
  for (const [k, x] of before) if (!after.has(k)) out.push({ change: 'removed', kind, ...scope, subject: show(x) });
  for (const [k, x] of after) {
    const prior = before.get(k);
    if (prior === undefined) out.push({ change: 'added', kind, ...scope, subject: show(x) });
    else if (same(prior, x)) continue;
    // Shown whole only when its text shows the change: a trust key's new bytes, an import's new
    // digest or a use's new parameters are not in it, and "old" and "new" would read the same.
    else if (!fields && show(prior) !== show(x)) out.push(changed(kind, agent, k, show(prior), show(x)));
    else {
      const a = (fields ?? allFields)(prior);
      const b = (fields ?? allFields)(x);
      for (const f of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
        if (!same(a[f], b[f])) out.push(changed(kind, agent, `${k}.${f}`, valueText(a[f] as IRValue), valueText(b[f] as IRValue)));
    }
  }
}

/** Every field but the position. */
const allFields = (item: unknown): Record<string, unknown> =>
  Object.fromEntries(Object.entries(item as object).filter(([k]) => k !== 'ref'));

/** Items by key; a key used again (two limits on one pattern) gets `#2`, `#3`…, so none hides another. */
function byKey<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const x of items) {
    const k = key(x);
    let n = 1;
    while (map.has(n === 1 ? k : `${k} #${n}`)) n++;
    map.set(n === 1 ? k : `${k} #${n}`, x);
  }
  return map;
}

/** Above this many rules on both sides of the differing middle, rules are compared as sets, not in order. */
const EDIT_SCRIPT_LIMIT = 2_000;

/** Rules in order: an edit script (longest common subsequence), then removed/added pairs for one tool read as changed. */
function diffRules(out: DiffEntry[], agent: string, was: readonly RuleIR[], now: readonly RuleIR[]): void {
  const sig = (r: RuleIR) => signature({ ...r, origin: undefined });
  const a = was.map(sig);
  const b = now.map(sig);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const removed: RuleIR[] = [];
  const added: RuleIR[] = [];
  const flush = () => {
    for (const r of removed) {
      const i = added.findIndex((x) => x.tool === r.tool);
      if (i === -1) out.push({ change: 'removed', kind: 'rule', agent, subject: ruleText(r) });
      else out.push(changed('rule', agent, added[i]!.tool, ruleText(r), ruleText(added.splice(i, 1)[0]!)));
    }
    for (const r of added) out.push({ change: 'added', kind: 'rule', agent, subject: ruleText(r) });
    removed.length = 0;
    added.length = 0;
  };
  const n = endA - start;
  const m = endB - start;
  if (n > EDIT_SCRIPT_LIMIT || m > EDIT_SCRIPT_LIMIT) {
    const inB = new Set(b.slice(start, endB));
    const inA = new Set(a.slice(start, endA));
    for (let i = start; i < endA; i++) if (!inB.has(a[i]!)) removed.push(was[i]!);
    for (let j = start; j < endB; j++) if (!inA.has(b[j]!)) added.push(now[j]!);
    return flush();
  }
  // lcs[i][j]: the longest common subsequence of a[start+i..endA) and b[start+j..endB).
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[start + i] === b[start + j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      flush();
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) added.push(now[start + j++]!);
    else removed.push(was[start + i++]!);
  }
  flush();
}

function budgetText(b: BudgetIR): string {
  const money = (usd: number | undefined, label: string) => (usd === undefined ? [] : [`${label} $${usd}`]);
  const parts = [
    ...money(b.max, 'max'),
    ...money(b.daily, 'daily'),
    ...(b.max_calls === undefined ? [] : [`max_calls ${b.max_calls}`]),
    ...(b.warn_at === undefined ? [] : [`warn_at ${b.warn_at}`]),
    `on_exceed ${b.on_exceed}`,
    ...(b.scope === 'fleet' ? ['fleet'] : []),
  ];
  return `${b.id}: ${parts.join(', ')} (per ${b.window})`;
}

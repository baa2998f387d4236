/**
 * How imported policy combines with local policy (documented in docs/imports.md):
 * - Local decides first. Imported rules for an agent are appended after the agent's own rules,
 *   so a local rule always wins under first-match — except an imported `deny!`, which is placed
 *   before the local rules: a strict deny in a pack cannot be overridden by accident.
 * - An import's top-level rules never become the local top-level rules (which govern agents with
 *   no block of their own): they apply only to agents that `use` the import.
 * - Agents, budgets, selectors, credentials and phases that exist only in the import are added; on
 *   a name clash the local one is kept. An added agent is reported (`addedAgent`): its block, not
 *   the local top-level rules, then decides every call made under its id. But an import never adds phases to an agent the local
 *   policy declares: a phase's rules are tried before the agent's own, so an imported phase would
 *   decide ahead of every local rule.
 * - Providers, identity providers and MCP servers are never imported: they run with the daemon's
 *   rights and secrets, so only the root policy declares them.
 * - Single-valued settings (egress, model_policy, session, spawn, completion_gate, enforcement,
 *   ambient) come from the import only where the local policy is silent. An import never sets the
 *   `default` of an agent the local policy declares, nor a runtime field that weakens enforcement
 *   (only RUNTIME_HINTS are taken, others are reported and ignored).
 * - Lists (rate limits, redactions, alerts) are concatenated, local first.
 * - `trust` is never imported: only the root policy decides whom to trust.
 */
import type { AgentIR, PolicyIR, RuleIR } from './ir.js';

/** Runtime fields an import (a framework profile) may fill in: hints, never enforcement posture. */
export const RUNTIME_HINTS = new Set([
  'backend',
  'mcp_proxy_port',
  'http_proxy_port',
  'mcp_filter_tools',
  'mcp_deny_as_error',
  'approval_ttl',
  'cold_start_deny_window',
  'cold_start_grace',
]);

export function mergeRules(local: RuleIR[], imported: RuleIR[]): RuleIR[] {
  const strict = imported.filter((r) => r.strict);
  return [...strict, ...local, ...imported.filter((r) => !r.strict)];
}

function byKey<T>(local: T[], imported: T[], key: (t: T) => string): T[] {
  const have = new Set(local.map(key));
  return [...local, ...imported.filter((t) => !have.has(key(t)))];
}

function mergeAgent(local: AgentIR, imported: AgentIR, ignored: (what: string) => void): AgentIR {
  const { default: _ignored, ...importedSettings } = imported;
  if (imported.phases.length > 0)
    ignored(`the phases of agent "${local.id}" (their rules would be tried before the agent's own; declare phases locally)`);
  const merged: AgentIR = {
    ...importedSettings,
    ...stripUndefined(local),
    rules: mergeRules(local.rules, imported.rules),
    rate_limits: [...local.rate_limits, ...imported.rate_limits],
    redactions: [...local.redactions, ...imported.redactions],
    costs: [...local.costs, ...imported.costs],
    alerts: [...local.alerts, ...imported.alerts],
    budgets: byKey(local.budgets, imported.budgets, (b) => b.id),
    selectors: byKey(local.selectors, imported.selectors, (s) => s.id),
    credentials: byKey(local.credentials, imported.credentials, (c) => c.id),
    phases: local.phases,
    delegates: [...local.delegates, ...imported.delegates],
    uses: local.uses,
    vars: { ...imported.vars, ...local.vars },
  };
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Fold one imported policy into the local one (which is modified and returned); `ignored` hears what was not taken. */
export function mergeImported(
  local: PolicyIR,
  imported: PolicyIR,
  ignored: (what: string) => void,
  addedAgent: (id: string) => void = () => undefined,
): PolicyIR {
  for (const [k, v] of Object.entries(imported.runtime)) {
    if (k in local.runtime) continue;
    if (RUNTIME_HINTS.has(k)) local.runtime[k] = v;
    else ignored(`runtime.${k}`);
  }
  if (imported.rules.length > 0) ignored('its top-level rules (they apply only to agents that `use` the import)');
  // What runs with the daemon's own rights and secrets is declared locally only: a provider or an
  // identity provider names the host the daemon sends its credentials to (an `env()` secret, or a
  // cloud SDK's default chain), and an MCP server's command runs outside the agent's sandbox.
  for (const [kind, items] of [
    ['provider', imported.providers],
    ['identity', imported.identities],
    ['mcp_server', imported.mcp_servers],
  ] as const)
    for (const item of items) ignored(`${kind} "${item.name}" (declare it locally: it would run with the daemon's rights and secrets)`);
  const index = new Map(local.agents.map((a, i) => [a.id, i]));
  for (const agent of imported.agents) {
    const i = index.get(agent.id);
    if (i === undefined) {
      index.set(agent.id, local.agents.length);
      local.agents.push(agent);
      addedAgent(agent.id);
    } else {
      local.agents[i] = mergeAgent(local.agents[i]!, agent, ignored);
    }
  }
  local.packs.push(...imported.packs);
  return local;
}

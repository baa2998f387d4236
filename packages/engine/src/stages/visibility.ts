/**
 * Could this agent ever be permitted (or deferred) this tool? The MCP proxy hides from `tools/list`
 * what the answer is no for, so a model is not shown tools it can never use. Conditions are not
 * evaluated — any permit or defer rule whose pattern matches makes the tool visible — and only an
 * unconditional deny that matches before any of them hides it; failing that, the agent's default
 * decides. Phases count: a tool permitted in any phase is visible.
 */
import type { PreparedPolicy } from '../prepare.js';

export function mayPermit(policy: PreparedPolicy, agentId: string, tool: string): boolean {
  const agent = policy.agents.get(agentId) ?? policy.flat;
  if (!agent) return false;
  const fallback = (agent.ir.default ?? 'deny') !== 'deny';
  // What is tried in order: the agent's rules alone, or while a phase is active, its rules first.
  const orders = [[agent.rules], ...agent.phases.map((p) => [p.rules, agent.rules])];
  return orders.some((sets) => {
    for (const set of sets)
      for (const rule of set.candidates(tool)) {
        if (rule.ir.effect !== 'deny') return true;
        if (!rule.when && rule.clauses.length === 0) return false;
      }
    return fallback;
  });
}

/**
 * Does any rule of this agent (in any phase) name `tool`, by its id or a pattern? When none does,
 * only the default ever decides it: `faramesh test` points that out, since a fixture naming a tool
 * the policy spells otherwise passes every deny case on the default alone.
 */
export function namedByRule(policy: PreparedPolicy, agentId: string, tool: string): boolean {
  const agent = policy.agents.get(agentId) ?? policy.flat;
  if (!agent) return false;
  return [agent.rules, ...agent.phases.map((p) => p.rules)].some((set) => set.candidates(tool).length > 0);
}

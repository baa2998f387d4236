import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';
import type { PolicyIR } from '../ir.js';
import { overlaps } from '../patterns.js';
import { reportAt } from './report.js';

/** Every tool pattern the policy names anywhere: rules, rate limits, credentials, MCP servers' tools and the HTTP proxies'. */
function knownTools(ir: PolicyIR): string[] {
  return [
    'http/*',
    ...ir.mcp_servers.map((m) => `${m.name}/*`),
    ...ir.rules.map((r) => r.tool),
    ...ir.agents.flatMap((a) => [
      ...a.rules.map((r) => r.tool),
      ...a.phases.flatMap((p) => p.rules.map((r) => r.tool)),
      ...a.rate_limits.map((l) => l.pattern),
      ...a.credentials.flatMap((c) => c.tools),
    ]),
  ];
}

/**
 * A delegate grant's `scope` holds tool patterns. One that meets none of the tools a target's rules
 * name (`scope = "read-only"`, copied as a label) would deny every call delegated to that agent.
 */
export function checkDelegationScopes(ir: PolicyIR, diagnostics: Diagnostics, locate: Locations): void {
  for (const agent of ir.agents)
    for (const grant of agent.delegates) {
      if (!grant.scope) continue;
      for (const target of grant.targets) {
        const worker = ir.agents.find((a) => a.id === target);
        // A worker whose default permits (or one not declared here) may call tools no rule of its
        // own names: then the scope must at least name a tool the policy knows somewhere.
        const own = worker !== undefined && worker.default !== 'permit';
        const tools = own
          ? [...worker.rules, ...worker.phases.flatMap((p) => p.rules)].filter((r) => r.effect !== 'deny').map((r) => r.tool)
          : knownTools(ir);
        if (grant.scope.some((p) => tools.some((t) => overlaps(p, t)))) continue;
        reportAt(
          diagnostics,
          locate,
          grant,
          'warning',
          'delegate-scope',
          `agent "${agent.id}": delegate scope [${grant.scope.join(', ')}] names no tool ${own ? `agent "${target}" may call` : 'this policy knows'}: every call delegated to "${target}" may be denied`,
          'scope holds tool patterns, e.g. scope = ["web/*", "docs/read"]',
        );
      }
    }
}

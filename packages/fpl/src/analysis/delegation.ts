import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';
import type { PolicyIR } from '../ir.js';
import { overlaps } from '../patterns.js';
import { reportAt } from './report.js';

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
        // A worker whose default permits may call tools its rules never name.
        if (!worker || worker.default === 'permit') continue;
        const tools = [...worker.rules, ...worker.phases.flatMap((p) => p.rules)].filter((r) => r.effect !== 'deny').map((r) => r.tool);
        if (grant.scope.some((p) => tools.some((t) => overlaps(p, t)))) continue;
        reportAt(
          diagnostics,
          locate,
          grant,
          'warning',
          'delegate-scope',
          `agent "${agent.id}": delegate scope [${grant.scope.join(', ')}] names no tool agent "${target}" may call: every call delegated to it is denied`,
          'scope holds tool patterns, e.g. scope = ["web/*", "docs/read"]',
        );
      }
    }
}

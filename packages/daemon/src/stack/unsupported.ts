/**
 * Valid FPL this build cannot honour. `check` warns about each; apply refuses the stack, since a
 * policy that relied on one would believe it held while nothing enforced it.
 */
import type { PolicyIR } from '@faramesh/fpl/runtime';

export function unsupportedFeature(ir: PolicyIR): string | undefined {
  for (const agent of ir.agents) {
    const grant = agent.delegates.find((d) => d.inherits.length > 0);
    if (grant)
      return `agent "${agent.id}" (${grant.ref}): delegate inherits is not available in this build: a worker spends only its own budgets`;
    const fleet = agent.budgets.find((b) => b.scope === 'fleet');
    if (fleet)
      return `agent "${agent.id}": budget '${fleet.id}' (${fleet.ref}) is fleet-wide, which this build cannot hold: each daemon counts its own`;
  }
  const federated = ir.trust.entries.find((e) => e.keyword === 'spiffe_federated');
  if (federated) return `trust spiffe_federated (${federated.ref}): federated SPIFFE trust domains are not available in this build`;
  const cost = ir.providers.find((p) => p.type === 'cost-http');
  if (cost)
    return `provider "${cost.name}" (${cost.ref}): cost-http is not available in this build; costs come from cost_usd, model usage at bundled prices, or cost declarations`;
  return undefined;
}

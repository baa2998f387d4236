import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';
import type { ExprIR, PolicyIR, RuleIR } from '../ir.js';
import { reportAt } from './report.js';

/** The first `principal.*` variable a condition reads, as written (`principal.role`). */
function principalVar(e: ExprIR): string | undefined {
  if ('var' in e) return e.var[0] === 'principal' ? e.var.join('.') : undefined;
  if ('list' in e) return e.list.map(principalVar).find((v) => v !== undefined);
  if ('op' in e) return e.args.map(principalVar).find((v) => v !== undefined);
  return undefined;
}

/**
 * `principal.*` holds only claims the daemon verified: a token checked by an `identity { type =
 * "oidc" }`, or stated claims under `runtime { trust_sdk_principal = true }` (docs/daemon.md).
 * A stack with neither judges every call with `principal.*` missing, so a comparison with it is
 * false: `deny db/drop if principal.role != "admin"` never fires, and under a permitting default
 * the call it was written to stop runs. `faramesh dev` takes stated claims, so the rule works
 * there and stops working once applied; check says so before that.
 */
export function checkPrincipalClaims(ir: PolicyIR, diagnostics: Diagnostics, locate: Locations): void {
  if (ir.identities.some((i) => i.type === 'oidc')) return;
  const trust = ir.runtime.trust_sdk_principal;
  // An env() or any other value than a plain false may turn claims on at start: say nothing then.
  if (trust !== undefined && trust !== false && trust !== 'false') return;
  const rules: RuleIR[] = [...ir.rules, ...ir.agents.flatMap((a) => [...a.rules, ...a.phases.flatMap((p) => p.rules)])];
  for (const rule of rules) {
    const name = rule.when && principalVar(rule.when);
    if (!name) continue;
    reportAt(
      diagnostics,
      locate,
      rule,
      'warning',
      'principal-unverified',
      `${rule.effect} ${rule.tool}: ${name} is never set on this stack (no identity "…" { type = "oidc" } verifies a principal_token, and stated claims are dropped outside faramesh dev), so the condition is judged with it missing and a comparison with it is false`,
      'declare identity "…" { type = "oidc" } and send a principal_token, or runtime { trust_sdk_principal = true } where the agents are vouched for another way',
    );
  }
}

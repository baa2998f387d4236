import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';
import type { PolicyIR, RuleIR } from '../ir.js';
import { reportAt } from './report.js';

/**
 * A condition that is a bare value (`if nil`, `if false`, `if "x"`, YAML's `condition: null`) is
 * true only when it is the boolean true: anything else makes a rule that never applies, and a
 * `deny` or `defer` so written guards nothing while `check` said the policy was valid.
 */
export function checkConstantConditions(ir: PolicyIR, diagnostics: Diagnostics, locate: Locations): void {
  const rules: RuleIR[] = [...ir.rules, ...ir.agents.flatMap((a) => [...a.rules, ...a.phases.flatMap((p) => p.rules)])];
  for (const rule of rules) {
    const when = rule.when;
    if (!when || !('lit' in when)) continue;
    const always = when.lit === true;
    reportAt(
      diagnostics,
      locate,
      rule,
      'warning',
      'constant-condition',
      `${rule.effect} ${rule.tool}: the condition is the constant ${JSON.stringify(when.lit)}, so this rule ${always ? 'applies to every call, as if it had none' : 'never applies'}`,
      always ? 'drop the condition' : 'write the comparison meant (a condition is true only when it is the boolean true)',
    );
  }
}

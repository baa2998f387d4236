import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Source } from '../syntax/source.js';
import type { PolicyIR } from '../ir.js';

/**
 * A policy that declares no agent and no rule (an empty file, a file of comments, only a runtime
 * block) denies every call. That fails safe, but it is rarely what was meant (a truncated file, the
 * wrong file), and an agent denied everything says nothing about why.
 */
export function checkEmptyPolicy(ir: PolicyIR, source: Source, diagnostics: Diagnostics): void {
  if (ir.rules.length > 0 || ir.agents.length > 0) return;
  diagnostics.warning(
    source,
    { start: 0, end: 0 },
    'no-rules',
    'the policy declares no agent and no rule: every call is denied',
    'add rules at the top level, or an agent "<id>" { … } block',
  );
}

import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';
import type { AgentIR, PolicyIR, RuleIR } from '../ir.js';
import { covers, isGlob } from '../patterns.js';

/** A rule with no condition and no HTTP clause matches every call to its pattern. */
function unconditional(rule: RuleIR): boolean {
  return rule.when === undefined && rule.host === undefined && rule.method === undefined && rule.path === undefined;
}

/**
 * Rule-order problems that are legal but almost certainly mistakes (warnings), and strict-deny
 * violations (errors): a `permit` after a `deny!` that covers its tool.
 */
export function checkRuleOrder(ir: PolicyIR, diagnostics: Diagnostics, locate: Locations): void {
  checkList(ir.rules, 'the top-level rules', diagnostics, locate);
  for (const agent of ir.agents) {
    checkList(agent.rules, `agent "${agent.id}"`, diagnostics, locate);
    for (const phase of agent.phases) checkList(phase.rules, `phase "${phase.name}"`, diagnostics, locate);
    checkDefault(agent, diagnostics, locate);
  }
}

function checkDefault(agent: AgentIR, diagnostics: Diagnostics, locate: Locations): void {
  if (agent.default !== undefined || agent.rules.length === 0) return;
  const at = locate.get(agent);
  if (at)
    diagnostics.warning(
      at.source,
      at.span,
      'missing-default',
      `agent "${agent.id}" has rules but no 'default deny|permit'; calls no rule matches are denied`,
      "add 'default deny' to make that explicit",
    );
}

function checkList(rules: RuleIR[], owner: string, diagnostics: Diagnostics, locate: Locations): void {
  const report = (rule: RuleIR, severity: 'error' | 'warning', code: string, message: string, hint: string) => {
    const at = locate.get(rule);
    if (at) diagnostics[severity](at.source, at.span, code, `${owner}: ${message}`, hint);
  };
  // Unconditional rules seen so far: exact tools in a map (the common case, O(1)), globs in a list.
  const exact = new Map<string, RuleIR>();
  const globs: RuleIR[] = [];
  const strict: RuleIR[] = [];
  for (const rule of rules) {
    const forbidding = rule.effect === 'permit' ? strict.find((d) => covers(d.tool, rule.tool)) : undefined;
    if (forbidding) {
      report(
        rule,
        'error',
        'strict-deny-violated',
        `'permit ${rule.tool}' comes after 'deny! ${forbidding.tool}' (${forbidding.ref}), which forbids permitting it`,
        'remove the permit, or make the strict deny a plain deny',
      );
      continue;
    }
    const shadow = exact.get(rule.tool) ?? globs.find((g) => covers(g.tool, rule.tool));
    if (shadow) {
      report(
        rule,
        'warning',
        'unreachable-rule',
        `this rule can never match: '${shadow.effect} ${shadow.tool}' at ${shadow.ref} already decides every call it covers (first match wins)`,
        'move the more specific rule above the general one',
      );
    }
    if (rule.strict) strict.push(rule);
    if (unconditional(rule) && !shadow) {
      if (isGlob(rule.tool)) globs.push(rule);
      else if (!exact.has(rule.tool)) exact.set(rule.tool, rule);
    }
  }
}

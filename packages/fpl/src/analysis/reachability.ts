import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';
import type { AgentIR, PhaseIR, PolicyIR, RuleIR } from '../ir.js';
import { covers, overlaps } from '../patterns.js';
import { PatternIndex } from './pattern-index.js';
import { reportAt } from './report.js';

/** A rule with no condition and no HTTP clause matches every call to its pattern. */
function unconditional(rule: RuleIR): boolean {
  return rule.when === undefined && rule.host === undefined && rule.method === undefined && rule.path === undefined;
}

/**
 * Rule-order problems that are legal but almost certainly mistakes (warnings), and strict-deny
 * violations (errors). `deny!` forbids every later permit of what it covers — local ones, and the
 * rules imports and `use` add, which always come later — and every phase permit that could share a
 * tool with it (phases are tried first). Permits written above a `deny!` are its deliberate
 * exceptions (`permit fs/write if …` then `deny! fs/write`).
 */
export function checkRuleOrder(ir: PolicyIR, diagnostics: Diagnostics, locate: Locations): void {
  checkList(ir.rules, [], 'the top-level rules', diagnostics, locate);
  for (const agent of ir.agents) {
    const phasePermits = agent.phases.flatMap((p) => p.rules.filter((r) => r.effect === 'permit'));
    checkList(agent.rules, phasePermits, `agent "${agent.id}"`, diagnostics, locate);
    for (const phase of agent.phases) {
      checkList(phase.rules, [], `phase "${phase.name}"`, diagnostics, locate);
      checkPhaseScope(phase, diagnostics, locate);
    }
    checkDefault(agent, diagnostics, locate);
  }
}

/**
 * A phase decides only the tools its `tools` names, so a rule of it for no tool of that list is
 * never tried: a `deny stripe/refund` in a phase for `["stripe/charge"]` would hold nowhere, silently.
 */
function checkPhaseScope(phase: PhaseIR, diagnostics: Diagnostics, locate: Locations): void {
  for (const rule of phase.rules) {
    if (phase.tools.some((t) => overlaps(t, rule.tool))) continue;
    reportAt(
      diagnostics,
      locate,
      rule,
      'warning',
      'outside-phase-tools',
      `phase "${phase.name}": '${rule.effect} ${rule.tool}' names no tool of the phase's tools (${phase.tools.join(', ') || 'none'}), so it is never tried`,
      "add the tool to the phase's tools, or move the rule to the agent's rules",
    );
  }
}

function checkDefault(agent: AgentIR, diagnostics: Diagnostics, locate: Locations): void {
  if (agent.default !== undefined || agent.rules.length === 0) return;
  reportAt(
    diagnostics,
    locate,
    agent,
    'warning',
    'missing-default',
    `agent "${agent.id}" has rules but no 'default deny|permit'; calls no rule matches are denied`,
    "add 'default deny' to make that explicit",
  );
}

function checkList(rules: RuleIR[], triedFirst: RuleIR[], owner: string, diagnostics: Diagnostics, locate: Locations): void {
  const report = (rule: RuleIR, severity: 'error' | 'warning', code: string, message: string, hint: string) =>
    reportAt(diagnostics, locate, rule, severity, code, `${owner}: ${message}`, hint);
  const strictViolation = (permit: RuleIR, deny: RuleIR, where: string) =>
    report(
      permit,
      'error',
      'strict-deny-violated',
      `'permit ${permit.tool}' ${where} could permit calls that 'deny! ${deny.tool}' (${deny.ref}) forbids`,
      'move the deny! above every permit it must win over, or make it a plain deny',
    );

  // Unconditional rules seen so far: exact tools in a map (O(1)), globs indexed by first segment.
  const exact = new Map<string, RuleIR>();
  const globs = new PatternIndex();
  const strict = new PatternIndex();
  const phasePermits = new PatternIndex();
  const flagged = new Set<RuleIR>();
  for (const p of triedFirst) phasePermits.add(p);
  for (const rule of rules) {
    if (rule.strict) {
      for (const p of phasePermits.mayOverlap(rule.tool)) {
        if (!flagged.has(p) && overlaps(p.tool, rule.tool)) {
          flagged.add(p);
          strictViolation(p, rule, 'in a phase (phases are tried first)');
        }
      }
    }
    if (rule.effect === 'permit') {
      const forbidding = strict.mayCover(rule.tool).find((d) => covers(d.tool, rule.tool));
      if (forbidding) {
        strictViolation(rule, forbidding, 'comes after it and');
        continue;
      }
    }
    const shadow = exact.get(rule.tool) ?? globs.mayCover(rule.tool).find((g) => covers(g.tool, rule.tool));
    if (shadow) {
      report(
        rule,
        'warning',
        'unreachable-rule',
        `this rule can never match: '${shadow.effect} ${shadow.tool}' at ${shadow.ref} already decides every call it covers (first match wins)`,
        'move the more specific rule above the general one',
      );
    }
    if (rule.strict) strict.add(rule);
    if (unconditional(rule) && !shadow) {
      if (rule.tool.includes('*')) globs.add(rule);
      else if (!exact.has(rule.tool)) exact.set(rule.tool, rule);
    }
  }
}

/** Every rule of a policy with where it sits, and a rule found again by its `governance.fms:LINE` ref. */
import { stripPositions, type PolicyIR, type RuleIR } from '@faramesh/fpl';
import { canonicalJson } from '@faramesh/protocol';

export interface PlacedRule {
  /** The agent the rule decides for; '' for the top-level rules. */
  agent: string;
  phase?: string;
  rule: RuleIR;
}

export function placedRules(ir: PolicyIR): PlacedRule[] {
  return [
    ...ir.rules.map((rule) => ({ agent: '', rule })),
    ...ir.agents.flatMap((a) => [
      ...a.phases.flatMap((p) => p.rules.map((rule) => ({ agent: a.id, phase: p.name, rule }))),
      ...a.rules.map((rule) => ({ agent: a.id, rule })),
    ]),
  ];
}

export const placeText = (p: PlacedRule) =>
  p.agent === '' ? 'top-level rules' : `agent "${p.agent}"${p.phase !== undefined ? ` phase "${p.phase}"` : ''}`;

/** What a rule says, without where it is written: equal for the same rule at another line. */
export const ruleSignature = (p: PlacedRule) => canonicalJson([p.agent, p.phase ?? null, stripPositions({ ...p.rule, origin: undefined })]);

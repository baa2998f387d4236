import type { RuleIR } from '@faramesh/fpl/runtime';

/** The steps `faramesh explain` prints: each stage, and each rule tried with why it did or did not match. */
export class Trace {
  readonly steps: { stage: string; detail: string }[] = [];
  readonly rules: { ref: string; effect: string; tool: string; result: string }[] = [];

  step(stage: string, detail: string): void {
    this.steps.push({ stage, detail });
  }

  rule(rule: RuleIR, result: string): void {
    this.rules.push({ ref: rule.ref, effect: rule.effect, tool: rule.tool, result });
  }
}

import type { RuleIR } from '../ir.js';
import { firstLiteralSegment } from '../patterns.js';

/**
 * Rules indexed by the literal first segment of their pattern, so the rule-order checks ask only
 * the rules that could relate to a pattern: linear in practice, not quadratic, for large policies.
 */
export class PatternIndex {
  private readonly byFirst = new Map<string, RuleIR[]>();
  private readonly wild: RuleIR[] = [];
  private readonly all: RuleIR[] = [];

  add(rule: RuleIR): void {
    const first = firstLiteralSegment(rule.tool);
    if (first === undefined) this.wild.push(rule);
    else {
      const list = this.byFirst.get(first);
      if (list) list.push(rule);
      else this.byFirst.set(first, [rule]);
    }
    this.all.push(rule);
  }

  /** Rules whose pattern could cover `pattern` (a glob-first pattern is covered only by glob-first ones). */
  mayCover(pattern: string): readonly RuleIR[] {
    const first = firstLiteralSegment(pattern);
    return first === undefined ? this.wild : [...(this.byFirst.get(first) ?? []), ...this.wild];
  }

  /** Rules whose pattern could share a tool with `pattern`. */
  mayOverlap(pattern: string): readonly RuleIR[] {
    const first = firstLiteralSegment(pattern);
    return first === undefined ? this.all : [...(this.byFirst.get(first) ?? []), ...this.wild];
  }
}

import type { RuleIR } from '../ir.js';
import { firstLiteralSegment } from '../patterns.js';

/**
 * Rules indexed by their patterns' literal beginnings, so the rule-order checks ask only the rules
 * that could relate to a pattern: linear in practice, not quadratic, for large policies (thousands
 * of rules under one namespace, `deny! github/delete_*` beside `permit github/get_*`).
 */
export class PatternIndex {
  /** By coverKey, and by tailKey: what `mayCover` asks. */
  private readonly byKey = new Map<string, RuleIR[]>();
  private readonly byTail = new Map<string, RuleIR[]>();
  /** By literal first segment, and the glob-first ones: what `mayOverlap` asks. */
  private readonly byFirst = new Map<string, RuleIR[]>();
  private readonly wild: RuleIR[] = [];
  private readonly all: RuleIR[] = [];
  /** Insertion order: candidates are handed back in it, so the first one that covers is the earliest rule. */
  private readonly order = new Map<RuleIR, number>();
  private readonly keys = new Map<RuleIR, { head: string; tail: string }>();

  add(rule: RuleIR): void {
    this.order.set(rule, this.all.length);
    this.all.push(rule);
    const keys = { head: coverKey(rule.tool), tail: tailKey(rule.tool) };
    this.keys.set(rule, keys);
    push(this.byKey, keys.head, rule);
    push(this.byTail, keys.tail, rule);
    const first = firstLiteralSegment(rule.tool);
    if (first === undefined) this.wild.push(rule);
    else push(this.byFirst, first, rule);
  }

  /** Rules whose pattern could cover `pattern`, in the order they were added. */
  mayCover(pattern: string): readonly RuleIR[] {
    // A rule that covers the pattern has a coverKey that begins the pattern's and a tailKey that
    // ends it. The lists of the side with fewer rules are read, and each rule checked on the other.
    const key = coverKey(pattern);
    const end = tailKey(pattern);
    const heads: RuleIR[][] = [];
    const tails: RuleIR[][] = [];
    for (let n = 0; n <= key.length; n++) {
      const list = this.byKey.get(key.slice(0, n));
      if (list) heads.push(list);
    }
    for (let n = 0; n <= end.length; n++) {
      const list = this.byTail.get(end.slice(end.length - n));
      if (list) tails.push(list);
    }
    const size = (lists: RuleIR[][]) => lists.reduce((sum, l) => sum + l.length, 0);
    const found =
      size(heads) <= size(tails)
        ? heads.flat().filter((r) => end.endsWith(this.keys.get(r)!.tail))
        : tails.flat().filter((r) => key.startsWith(this.keys.get(r)!.head));
    return found.length > 1 ? found.sort((a, b) => this.order.get(a)! - this.order.get(b)!) : found;
  }

  /** Rules whose pattern could share a tool with `pattern`. */
  mayOverlap(pattern: string): readonly RuleIR[] {
    const first = firstLiteralSegment(pattern);
    return first === undefined ? this.all : [...(this.byFirst.get(first) ?? []), ...this.wild];
  }
}

function push(map: Map<string, RuleIR[]>, key: string, rule: RuleIR): void {
  const list = map.get(key);
  if (list) list.push(rule);
  else map.set(key, [rule]);
}

/**
 * The text every tool a pattern matches begins with: the pattern itself when it is exact, else its
 * literal segments, and the literal start of its first wildcard segment when that start is not empty
 * (`github/delete_*` → `github/delete_`; `github/**` → `github`, since `**` may match no segment).
 * When `outer` covers `inner`, coverKey(outer) is a prefix of coverKey(inner): past coverKey(inner),
 * inner's wildcard can make a tool that differs from any longer text.
 */
export function coverKey(pattern: string): string {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern;
  const segmentStart = pattern.lastIndexOf('/', star) + 1;
  // A wildcard at the start of its segment adds nothing: the key ends with the literal segments (no '/').
  return star === segmentStart ? pattern.slice(0, Math.max(0, segmentStart - 1)) : pattern.slice(0, star);
}

/**
 * coverKey read from the other end: the text every tool a pattern matches ends with (`github/*_admin`
 * gives `_admin`; a whole-segment wildcard then `delete` gives `delete`). Matching is the same read
 * backwards, so the same holds:
 * when `outer` covers `inner`, tailKey(outer) ends tailKey(inner).
 */
export function tailKey(pattern: string): string {
  const star = pattern.lastIndexOf('*');
  if (star < 0) return pattern;
  const segmentEnd = pattern.indexOf('/', star);
  const end = segmentEnd < 0 ? pattern.length : segmentEnd;
  // A wildcard at the end of its segment adds nothing: the key starts with the literal segments (no '/').
  return star === end - 1 ? pattern.slice(Math.min(pattern.length, end + 1)) : pattern.slice(star + 1);
}

/**
 * Compiled rules and conditions written back as FPL, for `faramesh plan`'s diff. The text is what
 * the IR means (`amount` shows as `args.amount`, `$50` as `50`), not a copy of the source.
 */
import { quote, type ExprIR, type IRValue, type RuleIR } from '@faramesh/fpl';

export function ruleText(r: RuleIR): string {
  const parts = [`${r.effect}${r.strict ? '!' : ''}`.padEnd(6), r.tool];
  if (r.when) parts.push('if', exprText(r.when));
  for (const clause of ['host', 'method', 'path'] as const) if (r[clause] !== undefined) parts.push(clause, quote(r[clause]));
  if (r.reason !== undefined) parts.push('reason', quote(r.reason));
  if (r.notify !== undefined) parts.push('notify', quote(r.notify));
  return parts.join(' ');
}

/** Binding strength: `or` < `and` < `not` < a comparison < a value. */
const STRENGTH = { or: 1, and: 2 } as const;

export function exprText(e: ExprIR, outer = 0): string {
  if ('lit' in e) return literal(e.lit);
  if ('list' in e) return `[${e.list.map((x) => exprText(x)).join(', ')}]`;
  if ('var' in e) return e.var.join('.');
  if ('selector' in e) return [e.selector, ...e.path].join('.');
  // Operands of a comparison or of `not` that are operations themselves are always parenthesised.
  const own = e.op === 'or' || e.op === 'and' ? STRENGTH[e.op] : e.op === 'not' ? 3 : 4;
  const inner = own >= 3 ? 5 : own;
  const text = e.op === 'not' ? `not ${exprText(e.args[0], inner)}` : `${exprText(e.args[0], inner)} ${e.op} ${exprText(e.args[1], inner)}`;
  return own < outer ? `(${text})` : text;
}

function literal(v: Extract<ExprIR, { lit: unknown }>['lit']): string {
  if (Array.isArray(v)) return `[${v.map((x) => literal(x)).join(', ')}]`;
  if (v === null) return 'nil';
  // `1e+21` is how JavaScript writes it; FPL reads `1e21`.
  return typeof v === 'string' ? quote(v) : String(v).replace('e+', 'e');
}

/** A configuration value, compactly: strings quoted, `{ $env: X }` as env("X"). */
export function valueText(v: IRValue | undefined): string {
  if (v === undefined) return '(unset)';
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.$env === 'string') return `env(${quote(v.$env)})`;
  return typeof v === 'string' ? quote(v) : JSON.stringify(v);
}

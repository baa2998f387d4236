/**
 * Conditions in YAML/JSON are FPL expression strings. They are parsed by the FPL expression parser
 * over a scratch Source holding just the decoded string; spans of the result and of any diagnostics
 * are then mapped back onto the YAML text, so errors point into the scalar where they occur.
 */
import type { Scalar } from 'yaml';
import type { ExprNode } from '../syntax/ast.js';
import { Diagnostics } from '../syntax/diagnostics.js';
import { ExpressionParser } from '../syntax/expressions.js';
import { Source, type Span } from '../syntax/source.js';
import { ParseAbort, TokenStream } from '../syntax/token-stream.js';
import { spanOf, type FormContext } from './context.js';

/** How far ahead an escape or a line fold may push a character from where it was decoded. */
const ALIGN_WINDOW = 16;

export function parseCondition(ctx: FormContext, scalar: Scalar, text: string): ExprNode | undefined {
  const scratch = new Source(ctx.source.name, text);
  const local = new Diagnostics();
  const ts = new TokenStream(scratch, local);
  let expr: ExprNode | undefined;
  try {
    expr = new ExpressionParser(ts).parse();
    const after = ts.peek();
    if (after.kind !== 'eof') {
      local.error(
        scratch,
        { start: after.start, end: after.end },
        'unexpected-token',
        `unexpected ${ts.describe(after)} after the condition`,
        "join conditions with 'and' or 'or'",
      );
      expr = undefined;
    }
  } catch (e) {
    if (!(e instanceof ParseAbort)) throw e;
    expr = undefined;
  }
  const map = offsetMap(ctx.source.text, scalar, text);
  for (const d of local.items) {
    const span = map(d.span);
    if (d.severity === 'error') ctx.diagnostics.error(ctx.source, span, d.code, d.message, d.hint);
    else ctx.diagnostics.warning(ctx.source, span, d.code, d.message, d.hint);
  }
  // A rule whose condition is unreadable is dropped, never kept unconditional.
  if (!expr || local.errorCount > 0) return undefined;
  remapSpans(expr, map);
  return expr;
}

/**
 * Map offsets in the decoded string to offsets in the YAML text. Each decoded character gets the
 * range of text it came from: an escape (`\"`, `\u00e9`) or a doubled `''` as a whole; other
 * characters are found a little further on, which skips folded line breaks and indentation.
 */
function offsetMap(yamlText: string, scalar: Scalar, value: string): (span: Span) => Span {
  const whole = spanOf(scalar, { start: 0, end: 0 });
  const doubleQuoted = scalar.type === 'QUOTE_DOUBLE';
  const singleQuoted = scalar.type === 'QUOTE_SINGLE';
  let from = whole.start;
  let to = whole.end;
  if (doubleQuoted || singleQuoted) {
    from = Math.min(to, from + 1);
    to = Math.max(from, to - 1);
  } else if (scalar.type === 'BLOCK_LITERAL' || scalar.type === 'BLOCK_FOLDED') {
    const nl = yamlText.indexOf('\n', from);
    if (nl !== -1 && nl < to) from = nl + 1;
  }
  const starts = new Array<number>(value.length);
  const ends = new Array<number>(value.length);
  let r = from;
  for (let i = 0; i < value.length;) {
    if (doubleQuoted && r < to && yamlText[r] === '\\') {
      const next = yamlText[r + 1];
      if (next === '\n' || next === '\r') {
        // An escaped line break decodes to nothing.
        r += 2;
        while (r < to && /[\n\r \t]/.test(yamlText[r]!)) r++;
        continue;
      }
      const end = Math.min(to, r + (next === 'x' ? 4 : next === 'u' ? 6 : next === 'U' ? 10 : 2));
      const units = value.codePointAt(i)! > 0xffff ? 2 : 1;
      for (let u = 0; u < units && i < value.length; u++, i++) {
        starts[i] = r;
        ends[i] = end;
      }
      r = end;
      continue;
    }
    let k = r;
    const limit = Math.min(to, r + ALIGN_WINDOW);
    while (k < limit && yamlText[k] !== value[i]) k++;
    if (k >= limit) k = Math.min(r, to);
    starts[i] = k;
    ends[i] = Math.min(to, singleQuoted && yamlText[k] === "'" && yamlText[k + 1] === "'" ? k + 2 : k + 1);
    r = ends[i]!;
    i++;
  }
  const last = value.length > 0 ? ends[value.length - 1]! : from;
  const startOf = (i: number): number => (i < value.length ? starts[Math.max(0, i)]! : last);
  const endOf = (e: number): number => (e <= 0 ? from : ends[Math.min(e, value.length) - 1]!);
  return (span) => {
    const start = startOf(span.start);
    return { start, end: Math.max(start, endOf(span.end)) };
  };
}

/** Rewrite every span-like field (`span`, `opSpan`, …) of an expression tree, iteratively: `or` chains can be very long. */
function remapSpans(root: ExprNode, map: (span: Span) => Span): void {
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown>;
    for (const [key, v] of Object.entries(node)) {
      if (typeof v !== 'object' || v === null) continue;
      if (key === 'span' || key.endsWith('Span')) node[key] = map(v as Span);
      else if (Array.isArray(v)) for (const item of v as object[]) stack.push(item);
      else stack.push(v);
    }
  }
}

import { RE2JS } from 're2js';
import type { ExprNode, ListLit } from '../syntax/ast.js';
import { didYouMean } from '../syntax/suggest.js';
import { numberProblem } from '../syntax/lexer.js';
import type { ExprIR, IRValue } from '../ir.js';
import { isIPv6 } from 'node:net';
import { REQUEST_ROOTS, SCALAR_ROOTS, TIME_FIELDS } from '../schema.js';
import type { LowerContext } from './context.js';

type Scalar = string | number | boolean | null;

/** What a condition can see besides the request: the agent's vars and selectors. */
export interface Scope {
  vars: ReadonlyMap<string, IRValue>;
  selectors: ReadonlySet<string>;
  /** Records which vars were read (to report unused `use` parameters). */
  used?: Set<string>;
}

/** Compile a regex with RE2 semantics (linear time). Returns the error text, or undefined when valid. */
export function regexProblem(pattern: string): string | undefined {
  let cached = regexChecks.get(pattern);
  if (cached === undefined) {
    try {
      RE2JS.compile(pattern);
      cached = '';
    } catch (e) {
      cached = (e as Error).message.replace(/^error parsing regexp: /, '');
    }
    if (regexChecks.size > 10_000) regexChecks.clear();
    regexChecks.set(pattern, cached);
  }
  return cached || undefined;
}

/** Validation results by pattern: policies repeat patterns, and RE2 compilation is the costly part. */
const regexChecks = new Map<string, string>();

/** Lower a condition to IR. Returns undefined after reporting when it cannot be compiled. */
export function lowerExpr(ctx: LowerContext, node: ExprNode, scope: Scope): ExprIR | undefined {
  switch (node.kind) {
    case 'Paren':
      return lowerExpr(ctx, node.inner, scope);
    case 'Number':
    case 'Money':
      if (!Number.isFinite(node.value)) {
        ctx.error(node.span, 'invalid-number', 'the number is too large');
        return undefined;
      }
      return { lit: node.value };
    case 'String':
    case 'Bool':
      return { lit: node.value };
    case 'Nil':
      return { lit: null };
    case 'Env': {
      const value = ctx.env(node.name.value);
      if (value === undefined) {
        ctx.error(node.span, 'unset-env', `env("${node.name.value}") is unset; conditions resolve env() when the policy is compiled`);
        return undefined;
      }
      // Compared with numbers as often as with strings: a numeric value is a number, held to the
      // rules of a number written in the policy (never silently rounded, to 0 or past 2^53).
      if (!/^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(value.trim())) return { lit: value };
      const problem = numberProblem(value.trim());
      if (problem) {
        ctx.error(node.span, 'invalid-number', `env("${node.name.value}") is ${value.trim()}, which ${problem}`);
        return undefined;
      }
      return { lit: Number(value) };
    }
    case 'List':
      return lowerList(ctx, node, scope);
    case 'Ref':
      return lowerRef(ctx, node.path, node.span, scope);
    case 'Not': {
      const arg = lowerExpr(ctx, node.operand, scope);
      return arg && { op: 'not', args: [arg] };
    }
    case 'Binary': {
      const left = lowerExpr(ctx, node.left, scope);
      const right = lowerExpr(ctx, node.right, scope);
      if (!left || !right) return undefined;
      if (node.op === 'matches') {
        if (!('lit' in right) || typeof right.lit !== 'string') {
          ctx.error(
            node.right.span,
            'invalid-regex',
            "'matches' needs a quoted regular expression on its right",
            'e.g. path matches "^/v1/orders/[0-9]+$"',
          );
          return undefined;
        }
        const problem = regexProblem(right.lit);
        if (problem) {
          ctx.error(
            node.right.span,
            'invalid-regex',
            `invalid regular expression: ${problem}`,
            'patterns use RE2 syntax (no backreferences or lookaround)',
          );
          return undefined;
        }
      }
      if (node.op === 'in' && 'lit' in right && !Array.isArray(right.lit)) {
        ctx.error(
          node.right.span,
          'invalid-operand',
          `'in' needs a list on its right${typeof right.lit === 'string' ? "; to test for a substring use 'contains'" : ''}`,
          'e.g. currency in ["USD", "EUR"]',
        );
        return undefined;
      }
      const clash = timeTypeClash(node.op, left, right);
      if (clash) {
        ctx.error(
          node.span,
          'invalid-operand',
          clash,
          'time.now is an RFC 3339 string; the other time fields are numbers (time.weekday: 1 = Monday … 7 = Sunday)',
        );
        return undefined;
      }
      const isHost = (e: ExprIR) => 'var' in e && e.var.join('.') === 'host';
      // On either side: `"db.internal:5432" == host` is the same comparison.
      const literal = isHost(left) ? right : isHost(right) ? left : undefined;
      if (literal && (node.op === '==' || node.op === '!=' || node.op === 'in')) {
        const notHost = hostLiterals(literal).find((h) => /[/@]/.test(h) || /:\d*$/.test(h.replace(/^\[[^\]]*\]/, '')));
        if (notHost !== undefined) {
          ctx.error(
            node.right.span,
            'invalid-value',
            `host is a host name alone, compared without port, path or userinfo: '${notHost}' would never match`,
            'compare the port on its own: host == "db.internal" and port == 5432',
          );
          return undefined;
        }
      }
      return { op: node.op, args: [left, right] } as ExprIR;
    }
  }
}

/**
 * A comparison of a time field with a literal of another type (`time.weekday == "saturday"`,
 * `time.hour >= "18"`) can never be true, and a deny or defer whose condition compares values of
 * different types applies to every call: refused here, where the policy's author sees it.
 */
function timeTypeClash(op: string, left: ExprIR, right: ExprIR): string | undefined {
  const field = (e: ExprIR) => ('var' in e && e.var.length === 2 && e.var[0] === 'time' ? e.var[1] : undefined);
  const f = field(left) ?? field(right);
  if (f === undefined) return undefined;
  const other = field(left) !== undefined ? right : left;
  const want = f === 'now' ? 'string' : 'number';
  const name = `time.${f}`;
  if (op === 'matches' || op === 'startsWith' || op === 'endsWith' || op === 'contains') {
    return want === 'number' && field(left) !== undefined ? `'${op}' needs a string, but ${name} is a number` : undefined;
  }
  if (!('lit' in other)) return undefined;
  const values = op === 'in' && Array.isArray(other.lit) ? other.lit : [other.lit];
  const wrong = values.find((v) => v !== null && typeof v !== want);
  return wrong === undefined ? undefined : `${name} is a ${want}, so comparing it with ${JSON.stringify(wrong)} can never be true`;
}

/** The strings a comparison's right side holds (an IPv6 address alone has colons, and is left out). */
function hostLiterals(e: ExprIR): string[] {
  const values = 'lit' in e ? [e.lit].flat() : 'list' in e ? e.list.flatMap((x) => ('lit' in x ? [x.lit].flat() : [])) : [];
  return values.filter((v): v is string => typeof v === 'string' && !isIPv6(v));
}

function lowerList(ctx: LowerContext, node: ListLit, scope: Scope): ExprIR | undefined {
  const items: ExprIR[] = [];
  for (const item of node.items) {
    const lowered = lowerExpr(ctx, item as ExprNode, scope);
    if (!lowered) return undefined;
    items.push(lowered);
  }
  const scalars = items.every((i) => 'lit' in i && !Array.isArray(i.lit));
  return scalars ? { lit: items.map((i) => (i as { lit: Scalar }).lit) } : { list: items };
}

function lowerRef(ctx: LowerContext, path: string[], span: { start: number; end: number }, scope: Scope): ExprIR | undefined {
  const [root, ...rest] = path as [string, ...string[]];
  if (scope.vars.has(root) && rest.length === 0) {
    scope.used?.add(root);
    return literal(ctx, scope.vars.get(root)!, span, root);
  }
  if (scope.selectors.has(root)) return { selector: root, path: rest };
  if (!REQUEST_ROOTS.has(root)) return { var: ['args', ...path] };
  if (root === 'time') {
    if (rest.length !== 1 || !TIME_FIELDS.includes(rest[0]!)) {
      const hint = rest[0] ? didYouMean(rest[0], TIME_FIELDS) : undefined;
      ctx.error(
        span,
        'unknown-variable',
        `unknown time field '${path.join('.')}': use ${TIME_FIELDS.map((f) => `time.${f}`).join(', ')}`,
        hint ? hint.replace("'", "'time.") : undefined,
      );
      return undefined;
    }
  } else if (SCALAR_ROOTS.has(root) && rest.length > 0) {
    ctx.error(
      span,
      'unknown-variable',
      `'${root}' has no fields: '${path.join('.')}' cannot be read`,
      `for an argument named ${root}, write args.${path.join('.')}`,
    );
    return undefined;
  }
  return { var: path };
}

function literal(ctx: LowerContext, value: IRValue, span: { start: number; end: number }, name: string): ExprIR | undefined {
  if (value === null || typeof value !== 'object') return { lit: value };
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) return { lit: value as Scalar[] };
  ctx.error(span, 'invalid-variable', `var '${name}' cannot be used in a condition: only strings, numbers, booleans and lists of them can`);
  return undefined;
}

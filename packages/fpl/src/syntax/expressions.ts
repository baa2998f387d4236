import type { BinaryOp, EnvCall, ExprNode, ListLit, MapLit, AttributeNode, RefNode, ValueNode } from './ast.js';
import { ParseAbort, type TokenStream } from './token-stream.js';
import type { Token } from './tokens.js';

/** Deeper nesting than this is refused with a diagnostic instead of exhausting the stack. */
export const MAX_NESTING = 128;
/** A condition with more operators than this is refused: far beyond any real policy, well within every later pass. */
export const MAX_OPERATORS = 512;

const COMPARISONS: Record<string, BinaryOp> = {
  '==': '==',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  in: 'in',
  contains: 'contains',
  matches: 'matches',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
};

/** `x.starts_with("a")` style calls accepted as spellings of the infix operators. */
const METHOD_OPS: Record<string, BinaryOp> = {
  starts_with: 'startsWith',
  startsWith: 'startsWith',
  ends_with: 'endsWith',
  endsWith: 'endsWith',
  contains: 'contains',
  matches: 'matches',
};

/** Words that can never be variables in a condition. */
/** Words that start a new rule or item: on a new line they cannot continue a condition. */
const ITEM_STARTS = new Set([
  'permit',
  'allow',
  'approve',
  'defer',
  'deny',
  'deny!',
  'block',
  'reject',
  'rate_limit',
  'redact',
  'var',
  'use',
  'rules',
  'budget',
  'egress',
  'alert',
]);

const RESERVED = new Set(['and', 'or', 'not', 'in', 'contains', 'matches', 'startsWith', 'endsWith', 'if', 'when']);

export class ExpressionParser {
  private depth = 0;
  /** The deepest nesting reached since the current comparison began (see `comparison`). */
  private peak = 0;
  private operators = 0;

  constructor(private readonly ts: TokenStream) {}

  parse(): ExprNode {
    this.operators = 0;
    return this.or();
  }

  private countOperator(token: Token): void {
    if (++this.operators > MAX_OPERATORS) {
      this.ts.error(
        { start: token.start, end: token.end },
        'too-complex',
        `condition has more than ${MAX_OPERATORS} operators`,
        'split the rule, or use a list: x in [ … ]',
      );
      throw new ParseAbort();
    }
  }

  private nest<T>(token: Token, f: () => T): T {
    if (++this.depth > MAX_NESTING) {
      this.ts.error({ start: token.start, end: token.end }, 'too-deep', `expression nested more than ${MAX_NESTING} levels deep`);
      throw new ParseAbort();
    }
    this.peak = Math.max(this.peak, this.depth);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private or(): ExprNode {
    return this.logical('or', '||', () => this.and());
  }

  private and(): ExprNode {
    return this.logical('and', '&&', () => this.not());
  }

  /** A left-associative chain of `and` (or `or`), spelt as a word or a symbol. */
  private logical(op: 'and' | 'or', symbol: string, operand: () => ExprNode): ExprNode {
    let left = operand();
    while (this.ts.isWord(op) || this.ts.isPunct(symbol)) {
      const tok = this.ts.next();
      this.countOperator(tok);
      const right = this.nest(tok, operand);
      left = { kind: 'Binary', op, left, right, opSpan: span(tok), span: { start: left.span.start, end: right.span.end } };
    }
    return left;
  }

  /** `not` binds looser than comparisons: `not path matches "x"` is `not (path matches "x")`. */
  private not(): ExprNode {
    if (this.ts.isWord('not') || this.ts.isPunct('!')) {
      const op = this.ts.next();
      const operand = this.nest(op, () => this.not());
      return { kind: 'Not', operand, span: { start: op.start, end: operand.span.end } };
    }
    return this.comparison();
  }

  private comparison(): ExprNode {
    const outerPeak = this.peak;
    this.peak = this.depth;
    const left = this.operand();
    const leftPeak = this.peak;
    this.peak = Math.max(outerPeak, leftPeak);
    const t = this.ts.peek();
    // `x not in [..]` is read as `not (x in [..])`.
    if (t.kind === 'word' && t.text === 'not' && this.ts.isWord('in', 1)) {
      // fmt prints it `not x in [..]`, where `not` nests both operands one level deeper and `in`
      // is an operator: it counts so here too, or fmt could turn an accepted condition into one
      // past the limits (each level of `(x not in [..]) not in [..]` printed two deeper).
      if (leftPeak + 1 > MAX_NESTING) {
        this.ts.error(span(t), 'too-deep', `expression nested more than ${MAX_NESTING} levels deep`);
        throw new ParseAbort();
      }
      this.peak = Math.max(this.peak, leftPeak + 1);
      this.ts.next(); // not
      const inTok = this.ts.next();
      this.countOperator(inTok);
      const right = this.nest(t, () => this.operand());
      const whole = { start: left.span.start, end: right.span.end };
      return { kind: 'Not', operand: { kind: 'Binary', op: 'in', left, right, opSpan: span(inTok), span: whole }, span: whole };
    }
    const op = (t.kind === 'punct' || t.kind === 'word') && Object.hasOwn(COMPARISONS, t.text) ? COMPARISONS[t.text]! : undefined;
    if (!op) return left;
    this.countOperator(this.ts.next());
    const right = this.operand();
    const node: ExprNode = { kind: 'Binary', op, left, right, opSpan: span(t), span: { start: left.span.start, end: right.span.end } };
    const after = this.ts.peek();
    if ((after.kind === 'punct' || after.kind === 'word') && Object.hasOwn(COMPARISONS, after.text)) {
      this.ts.error(
        span(after),
        'chained-comparison',
        `comparisons cannot be chained: '${after.text}' after '${t.text}'`,
        "join them with 'and', or add parentheses",
      );
      throw new ParseAbort();
    }
    return node;
  }

  private operand(): ExprNode {
    const t = this.ts.peek();
    if (t.newlineBefore && (t.kind === 'eof' || (t.kind === 'punct' && t.text === '}') || (t.kind === 'word' && ITEM_STARTS.has(t.text)))) {
      const end = this.ts.lastEnd;
      this.ts.error(
        { start: Math.max(0, end - 1), end },
        'expected-operand',
        'the condition ends unfinished: expected a value or variable at the end of the line',
      );
      throw new ParseAbort();
    }
    switch (t.kind) {
      case 'string':
        this.ts.next();
        return { kind: 'String', value: t.value as string, span: span(t) };
      case 'number':
        this.ts.next();
        return { kind: 'Number', value: t.value as number, raw: t.text, span: span(t) };
      case 'money':
        this.ts.next();
        return { kind: 'Money', value: t.value as number, raw: t.text, span: span(t) };
      case 'punct':
        if (t.text === '(') {
          this.ts.next();
          const inner = this.nest(t, () => this.or());
          const close = this.expect(')', "to close '('");
          return { kind: 'Paren', inner, span: { start: t.start, end: close.end } };
        }
        if (t.text === '[') return this.nest(t, () => this.list(() => this.listItem()));
        break;
      case 'word':
        return this.wordOperand(t);
      default:
        break;
    }
    this.ts.error(span(t), 'expected-operand', `expected a value or variable in condition, got ${this.ts.describe(t)}`);
    throw new ParseAbort();
  }

  /** A list in a condition holds values and variables, not conditions. */
  private listItem(): ExprNode {
    const item = this.operand();
    if (item.kind === 'Paren' || item.kind === 'Binary' || item.kind === 'Not') {
      this.ts.error(item.span, 'invalid-operand', 'a list holds values or variables, not conditions');
      throw new ParseAbort();
    }
    return item;
  }

  private wordOperand(t: Token): ExprNode {
    const word = t.text;
    if (word === 'true' || word === 'false') {
      this.ts.next();
      return { kind: 'Bool', value: word === 'true', span: span(t) };
    }
    if (word === 'nil' || word === 'null') {
      this.ts.next();
      return { kind: 'Nil', span: span(t) };
    }
    if (word === 'env' && this.ts.isPunct('(', 1)) return this.env();
    if (RESERVED.has(word)) {
      this.ts.error(span(t), 'expected-operand', `expected a value or variable in condition, got keyword '${word}'`);
      throw new ParseAbort();
    }
    this.ts.next();
    // `10_000`, `1k`, `18h` or `1.2.3` read as a number but are none: taken as the name of an
    // argument, the comparison would never hold, silently.
    if (/^-?\.?\d/.test(word)) {
      this.ts.error(
        span(t),
        'invalid-number',
        `'${word}' is not a number`,
        `write numbers as 10000, 3.5 or 1e4 (no '_', units or suffixes), quote a string ("${word}"), or write args.${word.replace(/^-/, '')} for an argument of that name`,
      );
      throw new ParseAbort();
    }
    if (/[/*@]/.test(word)) {
      this.ts.error(span(t), 'invalid-variable', `'${word}' is not a variable name`, `quote it if you meant a string: "${word}"`);
      throw new ParseAbort();
    }
    const segments = word.split('.');
    if (segments.some((s) => s === '')) {
      this.ts.error(span(t), 'invalid-variable', `'${word}' has an empty path segment`);
      throw new ParseAbort();
    }
    const ref: RefNode = { kind: 'Ref', path: segments, span: span(t) };
    const open = this.ts.peek();
    if (open.kind === 'punct' && open.text === '(' && !open.spaceBefore) return this.methodCall(ref, t);
    return ref;
  }

  /** `path.starts_with("./drafts/")` → `path startsWith "./drafts/"`. */
  private methodCall(ref: RefNode, t: Token): ExprNode {
    const method = ref.path[ref.path.length - 1]!;
    const op = ref.path.length > 1 ? METHOD_OPS[method] : undefined;
    if (!op) {
      this.ts.error(
        ref.span,
        'unknown-function',
        `unknown function '${ref.path.join('.')}'`,
        'conditions support env("NAME") and the methods starts_with, ends_with, contains and matches',
      );
      throw new ParseAbort();
    }
    this.ts.next(); // (
    // A call is an operator, as its infix spelling is, and fmt prints it as `(x op (arg))`: it
    // counts once towards the operators and twice towards the nesting, so a chain of calls can
    // neither exhaust the stack nor grow past the limits when fmt rewrites it.
    this.countOperator(t);
    const arg = this.nest(t, () => this.nest(t, () => this.or()));
    const close = this.expect(')', `to close '${method}('`);
    const target: RefNode = {
      kind: 'Ref',
      path: ref.path.slice(0, -1),
      span: { start: ref.span.start, end: ref.span.end - method.length - 1 },
    };
    return {
      kind: 'Binary',
      op,
      left: target,
      right: arg,
      opSpan: { start: t.end - method.length, end: t.end },
      span: { start: ref.span.start, end: close.end },
    };
  }

  env(): EnvCall {
    const kw = this.ts.next();
    this.ts.next(); // (
    const name = this.ts.peek();
    if (name.kind !== 'string') {
      this.ts.error(
        span(name),
        'invalid-env',
        `env() takes a quoted variable name, got ${this.ts.describe(name)}`,
        'write env("VAULT_TOKEN")',
      );
      throw new ParseAbort();
    }
    this.ts.next();
    const close = this.expect(')', "to close 'env('");
    return {
      kind: 'Env',
      name: { kind: 'String', value: name.value as string, span: span(name) },
      span: { start: kw.start, end: close.end },
    };
  }

  /** `[a, b, c]`, newlines allowed, trailing comma allowed. */
  list<T extends ValueNode | ExprNode>(item: () => T): ListLit & { items: T[] } {
    const open = this.ts.next();
    const items: T[] = [];
    for (;;) {
      const t = this.ts.peek();
      if (t.kind === 'punct' && t.text === ']') break;
      if (t.kind === 'eof') {
        this.ts.error(span(open), 'unclosed', "unclosed '[': expected ']'");
        throw new ParseAbort();
      }
      items.push(item());
      if (!this.ts.eat(',')) {
        const n = this.ts.peek();
        if (!(n.kind === 'punct' && n.text === ']') && !n.newlineBefore) {
          this.ts.error(span(n), 'expected-token', `expected ',' or ']' in list, got ${this.ts.describe(n)}`);
          throw new ParseAbort();
        }
      }
    }
    const close = this.ts.next();
    return { kind: 'List', items, span: { start: open.start, end: close.end } } as ListLit & { items: T[] };
  }

  expect(text: string, why: string): Token {
    const t = this.ts.peek();
    if (t.kind === 'punct' && t.text === text) return this.ts.next();
    this.ts.error(span(t), 'expected-token', `expected '${text}' ${why}, got ${this.ts.describe(t)}`);
    throw new ParseAbort();
  }

  // ---- attribute values ------------------------------------------------------------------

  /** A configuration value: string, number, money, bool, nil, bare word, list, map or env(). */
  value(): ValueNode {
    const t = this.ts.peek();
    switch (t.kind) {
      case 'string':
        this.ts.next();
        return { kind: 'String', value: t.value as string, span: span(t) };
      case 'number':
        this.ts.next();
        return { kind: 'Number', value: t.value as number, raw: t.text, span: span(t) };
      case 'money':
        this.ts.next();
        return { kind: 'Money', value: t.value as number, raw: t.text, span: span(t) };
      case 'word':
        if (t.text === 'env' && this.ts.isPunct('(', 1)) return this.env();
        this.ts.next();
        if (t.text === 'true' || t.text === 'false') return { kind: 'Bool', value: t.text === 'true', span: span(t) };
        if (t.text === 'nil' || t.text === 'null') return { kind: 'Nil', span: span(t) };
        return { kind: 'Word', value: t.text, span: span(t) };
      case 'punct':
        if (t.text === '[') return this.nest(t, () => this.list(() => this.value()));
        if (t.text === '{') return this.nest(t, () => this.map());
        break;
      default:
        break;
    }
    this.ts.error(span(t), 'expected-value', `expected a value, got ${this.ts.describe(t)}`);
    throw new ParseAbort();
  }

  private map(): MapLit {
    const open = this.ts.next();
    const entries: AttributeNode[] = [];
    for (;;) {
      const t = this.ts.peek();
      if (t.kind === 'punct' && t.text === '}') break;
      if (t.kind === 'punct' && (t.text === ',' || t.text === ';')) {
        this.ts.next();
        continue;
      }
      if (t.kind !== 'word' && t.kind !== 'string') {
        this.ts.error(
          span(t),
          t.kind === 'eof' ? 'unclosed' : 'expected-token',
          t.kind === 'eof' ? "unclosed '{': expected '}'" : `expected a key in map, got ${this.ts.describe(t)}`,
        );
        throw new ParseAbort();
      }
      this.ts.next();
      const equals = !!(this.ts.eat('=') ?? this.ts.eat(':'));
      const value = this.value();
      entries.push({
        kind: 'Attribute',
        name: t.value as string,
        nameSpan: span(t),
        value,
        equals,
        span: { start: t.start, end: value.span.end },
      });
    }
    const close = this.ts.next();
    return { kind: 'Map', entries, span: { start: open.start, end: close.end } };
  }
}

export function span(t: Token): { start: number; end: number } {
  return { start: t.start, end: t.end };
}

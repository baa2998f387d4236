import type {
  AttributeNode,
  BlockNode,
  BodyItem,
  ClauseValue,
  CostNode,
  FileNode,
  ImportNode,
  PolicyEffectWord,
  RateLimitNode,
  RedactNode,
  RuleNode,
  StringLit,
  ToolPatternNode,
  TopItem,
  TrustEntryNode,
  UseNode,
  VarNode,
  WordLit,
} from './ast.js';
import { Diagnostics } from './diagnostics.js';
import { ExpressionParser, MAX_NESTING, span } from './expressions.js';
import { Source, type Span } from './source.js';
import { ParseAbort, TokenStream } from './token-stream.js';
import type { Token } from './tokens.js';

/** Effect words and their canonical meaning (`allow`/`approve`/`block`/`reject` are the upstream dialect). */
export const EFFECT_WORDS: Readonly<Record<string, PolicyEffectWord>> = {
  permit: 'permit',
  allow: 'permit',
  approve: 'permit',
  defer: 'defer',
  deny: 'deny',
  block: 'deny',
  reject: 'deny',
};

/** Blocks whose bodies may hold rules directly. */
const RULE_CONTEXTS = new Set(['<file>', 'rules', 'phase', 'agent', 'pack']);
const CLAUSES = new Set(['if', 'when', 'host', 'method', 'path', 'reason', 'notify']);

/** A word a rule reads as one of its clauses: a tool so named must be written quoted (`defer "notify"`). */
export const isRuleClause = (word: string): boolean => CLAUSES.has(word);

export interface ParseResult {
  file: FileNode;
  diagnostics: Diagnostics;
}

export function parse(source: Source, diagnostics = new Diagnostics()): ParseResult {
  const parser = new Parser(source, diagnostics);
  return { file: parser.parseFile(), diagnostics };
}

class Parser {
  private readonly ts: TokenStream;
  private readonly expr: ExpressionParser;
  private blockDepth = 0;

  constructor(
    private readonly source: Source,
    private readonly diagnostics: Diagnostics,
  ) {
    this.ts = new TokenStream(source, diagnostics);
    this.expr = new ExpressionParser(this.ts);
  }

  parseFile(): FileNode {
    const items: TopItem[] = [];
    while (this.ts.peek().kind !== 'eof') {
      const t = this.ts.peek();
      if (t.kind === 'punct' && t.text === '}') {
        this.ts.error(span(t), 'unbalanced-brace', "unexpected '}' with no open block");
        this.ts.next();
        continue;
      }
      const item = this.item('<file>');
      if (item) items.push(item as TopItem);
    }
    return { kind: 'File', source: this.source, items, comments: this.ts.lexer.comments, span: { start: 0, end: this.source.text.length } };
  }

  /** One item of a body (or of the file); on a syntax error, reports it and skips to the next item. */
  private item(context: string): BodyItem | ImportNode | undefined {
    const start = this.ts.peek();
    try {
      return this.itemOrThrow(context);
    } catch (e) {
      if (!(e instanceof ParseAbort)) throw e;
      this.recover(start);
      return undefined;
    }
  }

  private itemOrThrow(context: string): BodyItem | ImportNode | undefined {
    const t = this.ts.peek();
    if (t.kind === 'punct' && t.text === ';') {
      this.ts.next();
      return undefined;
    }
    if (t.kind !== 'word') {
      this.ts.error(span(t), 'expected-item', `expected a block, field or rule, got ${this.ts.describe(t)}`);
      throw new ParseAbort();
    }
    // Trust entries are line-oriented; read them before any lookahead past the keyword.
    if (context === 'trust') return this.trustEntry();
    const followedByEquals = this.ts.isPunct('=', 1);
    if (context === '<file>' && t.text === 'import' && !followedByEquals) return this.importDecl();
    if (!followedByEquals) {
      if (RULE_CONTEXTS.has(context) && this.isEffect(t)) return this.rule();
      {
        if (t.text === 'rate_limit') return this.rateLimit();
        if (t.text === 'redact') return this.redact();
        if (t.text === 'cost') return this.cost();
        if (t.text === 'var') return this.varDecl();
        if (t.text === 'use') return this.use();
      }
    }
    return this.blockOrAttribute(context);
  }

  private isEffect(t: Token): boolean {
    return Object.hasOwn(EFFECT_WORDS, t.text) || t.text === 'deny!';
  }

  /** Skip to the start of the next item: a new line at this nesting level, or the closing brace. */
  private recover(from: Token): void {
    let depth = 0;
    for (;;) {
      const t = this.ts.peek();
      if (t.kind === 'eof') return;
      // Progress was made past the item's first token: a new line at this depth starts the next item.
      if (depth === 0 && t.newlineBefore && t.start > from.start) return;
      if (t.kind === 'punct') {
        if (t.text === '{' || t.text === '[' || t.text === '(') depth++;
        else if (t.text === '}' || t.text === ']' || t.text === ')') {
          if (depth === 0 && t.text === '}') return;
          depth = Math.max(0, depth - 1);
        }
      }
      this.ts.next();
    }
  }

  private importDecl(): ImportNode {
    const kw = this.ts.next();
    const path = this.ts.peek();
    if (path.kind !== 'string') {
      this.ts.error(
        span(path),
        'expected-token',
        `expected a quoted import path after 'import', got ${this.ts.describe(path)}`,
        'import "github.com/faramesh/faramesh-registry/policies/stripe@1.3.0"',
      );
      throw new ParseAbort();
    }
    this.ts.next();
    const node: ImportNode = { kind: 'Import', path: str(path), span: { start: kw.start, end: path.end } };
    if (this.ts.isWord('as') && !this.ts.peek().newlineBefore) {
      this.ts.next();
      const alias = this.ts.peek();
      if (alias.kind !== 'word' || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(alias.text)) {
        this.ts.error(span(alias), 'expected-token', `expected an alias name after 'as', got ${this.ts.describe(alias)}`);
        throw new ParseAbort();
      }
      this.ts.next();
      node.alias = word(alias);
      node.span.end = alias.end;
    }
    return node;
  }

  private blockOrAttribute(context: string): BlockNode | AttributeNode {
    const name = this.ts.next();
    // name = value | name: value
    if (this.ts.isPunct('=') || this.ts.isPunct(':')) {
      const op = this.ts.next();
      const value = this.expr.value();
      return {
        kind: 'Attribute',
        name: name.text,
        nameSpan: span(name),
        value,
        equals: op.text === '=',
        span: { start: name.start, end: value.span.end },
      };
    }
    // name { … } | name label… { … }
    let n = 0;
    while (true) {
      const t = this.ts.peek(n);
      if (t.kind === 'punct' && t.text === '{' && !(n === 0 && t.newlineBefore)) return this.block(name, n);
      if ((t.kind === 'string' || t.kind === 'word') && !t.newlineBefore && n < 4) {
        n++;
        continue;
      }
      break;
    }
    // name value (same line): `default deny`, `max $500`, `require "no_pending_approvals"`
    const t = this.ts.peek();
    if (t.newlineBefore || t.kind === 'eof' || (t.kind === 'punct' && t.text === '}')) {
      const hint = context === '<file>' ? `a top-level '${name.text}' needs a body: ${name.text} { … }` : undefined;
      this.ts.error(span(name), 'expected-value', `expected a value or '{' after '${name.text}'`, hint);
      throw new ParseAbort();
    }
    const value = this.expr.value();
    const node: AttributeNode = {
      kind: 'Attribute',
      name: name.text,
      nameSpan: span(name),
      value,
      equals: false,
      span: { start: name.start, end: value.span.end },
    };
    const junk = this.restOfItemLine();
    if (junk) {
      node.junk = junk;
      node.span.end = junk.end;
    }
    return node;
  }

  /**
   * Tokens left on the line after `name value`. Kept (not reported here) because the usual cause is
   * a misspelt statement keyword (`rate_limts "x": 1 per minute`): the checker then reports the
   * unknown name once, with a suggestion, instead of a cascade of syntax errors.
   */
  private restOfItemLine(): Span | undefined {
    const first = this.ts.peek();
    // A word may start the next field on the same line (`budget daily { max $500 on_exceed defer }`),
    // unless it is a rule clause or `args`: then the line was a misspelt rule or statement.
    const continuesRule = first.kind === 'word' && (CLAUSES.has(first.text) || first.text === 'args');
    if (
      first.newlineBefore ||
      first.kind === 'eof' ||
      (first.kind === 'word' && !continuesRule) ||
      (first.kind === 'punct' && (first.text === '}' || first.text === ';'))
    )
      return undefined;
    let depth = 0;
    let end = first.end;
    for (;;) {
      const t = this.ts.peek();
      if (t.kind === 'eof' || (depth === 0 && t !== first && t.newlineBefore)) break;
      if (t.kind === 'punct' && depth === 0 && (t.text === '}' || t.text === ';')) break;
      if (t.kind === 'punct' && (t.text === '{' || t.text === '[' || t.text === '(')) depth++;
      if (t.kind === 'punct' && (t.text === '}' || t.text === ']' || t.text === ')')) depth--;
      end = this.ts.next().end;
    }
    return { start: first.start, end };
  }

  private block(name: Token, labelCount: number): BlockNode {
    const labels: (StringLit | WordLit)[] = [];
    for (let i = 0; i < labelCount; i++) {
      const t = this.ts.next();
      labels.push(t.kind === 'string' ? str(t) : word(t));
    }
    const open = this.ts.next();
    if (++this.blockDepth > MAX_NESTING) {
      this.ts.error(span(open), 'too-deep', `blocks nested more than ${MAX_NESTING} levels deep`);
      throw new ParseAbort();
    }
    try {
      const body: BodyItem[] = [];
      const context = name.text;
      for (;;) {
        const t = this.ts.peek();
        if (t.kind === 'punct' && t.text === '}') break;
        if (t.kind === 'eof') {
          this.ts.error(span(name), 'unclosed', `block '${name.text}' is never closed: expected '}' before the end of the file`);
          return { kind: 'Block', type: name.text, typeSpan: span(name), labels, body, span: { start: name.start, end: t.start } };
        }
        const item = this.item(context);
        if (item) body.push(item as BodyItem);
      }
      const close = this.ts.next();
      return { kind: 'Block', type: name.text, typeSpan: span(name), labels, body, span: { start: name.start, end: close.end } };
    } finally {
      this.blockDepth--;
    }
  }

  private rule(): RuleNode {
    const effectTok = this.ts.next();
    let strict = effectTok.text === 'deny!';
    let effectEnd = effectTok.end;
    const effect = strict ? 'deny' : EFFECT_WORDS[effectTok.text]!;
    // Upstream writes strict deny as `deny!` or `deny !`.
    if (effect === 'deny' && effectTok.text === 'deny' && this.ts.isPunct('!') && !this.ts.peek().newlineBefore) {
      strict = true;
      effectEnd = this.ts.next().end;
    }
    const tool = this.toolPattern(effectTok);
    const node: RuleNode = {
      kind: 'Rule',
      effect,
      strict,
      effectSpan: { start: effectTok.start, end: effectEnd },
      tool,
      span: { start: effectTok.start, end: tool.span.end },
    };
    for (;;) {
      const t = this.ts.peek();
      if (t.kind !== 'word' || !CLAUSES.has(t.text)) break;
      // A clause on a following line continues the rule only if it cannot start an item itself.
      this.ts.next();
      const clause = t.text === 'when' ? 'if' : t.text;
      if ((clause === 'if' && node.condition) || (clause !== 'if' && node[clause as 'host'])) {
        this.ts.error(span(t), 'duplicate-clause', `rule has more than one '${t.text}' clause`);
        throw new ParseAbort();
      }
      this.ts.eat(':');
      if (clause === 'if') node.condition = this.expr.parse();
      else if (clause === 'reason' || clause === 'notify') node[clause] = this.quoted(t);
      else node[clause as 'host' | 'method' | 'path'] = this.clauseValue(t);
      node.span.end = this.ts.lastEnd;
    }
    const after = this.ts.peek();
    if (!after.newlineBefore && after.kind !== 'eof' && !(after.kind === 'punct' && (after.text === '}' || after.text === ';'))) {
      const hint =
        after.kind === 'word' ? closestClause(after.text) : after.kind === 'punct' && after.text === '=' ? "did you mean '=='?" : undefined;
      this.ts.error(
        span(after),
        'unexpected-token',
        `unexpected ${this.ts.describe(after)} after rule; expected if, host, method, path, reason or notify`,
        hint,
      );
      throw new ParseAbort();
    }
    return node;
  }

  private toolPattern(effect: Token): ToolPatternNode {
    const t = this.ts.peek();
    if (
      (t.kind === 'word' || t.kind === 'string') &&
      !t.newlineBefore &&
      !(t.kind === 'word' && CLAUSES.has(t.text) && t.text !== 'path' && t.text !== 'host')
    ) {
      this.ts.next();
      return { kind: 'ToolPattern', text: t.value as string, quoted: t.kind === 'string', span: span(t) };
    }
    if (t.kind === 'number') {
      this.ts.next();
      return { kind: 'ToolPattern', text: t.text, quoted: false, span: span(t) };
    }
    this.ts.error(
      t.newlineBefore ? span(effect) : span(t),
      'expected-tool',
      `expected a tool name or pattern after '${effect.text}'${t.newlineBefore ? '' : `, got ${this.ts.describe(t)}`}`,
      'e.g. permit stripe/refund, deny shell/*',
    );
    throw new ParseAbort();
  }

  private quoted(clause: Token): StringLit {
    const t = this.ts.peek();
    if (t.kind !== 'string') {
      this.ts.error(span(t), 'expected-string', `expected a quoted string after '${clause.text}', got ${this.ts.describe(t)}`);
      throw new ParseAbort();
    }
    this.ts.next();
    return str(t);
  }

  private clauseValue(clause: Token): ClauseValue {
    const t = this.ts.peek();
    if (t.kind === 'string') {
      this.ts.next();
      return str(t);
    }
    if (t.kind === 'word' && !t.newlineBefore) {
      this.ts.next();
      return word(t);
    }
    this.ts.error(span(t), 'expected-value', `expected a value after '${clause.text}', got ${this.ts.describe(t)}`);
    throw new ParseAbort();
  }

  /** `<keyword> "<pattern>":`: the head shared by `rate_limit` and `cost`. */
  private patternHead(example: string): { kw: Token; pattern: StringLit | WordLit } {
    const kw = this.ts.next();
    const pattern = this.ts.peek();
    if (pattern.kind !== 'string' && pattern.kind !== 'word') {
      this.ts.error(
        span(pattern),
        'expected-token',
        `expected a quoted tool pattern after '${kw.text}', got ${this.ts.describe(pattern)}`,
        example,
      );
      throw new ParseAbort();
    }
    this.ts.next();
    this.expr.expect(':', `after the ${kw.text} pattern`);
    return { kw, pattern: pattern.kind === 'string' ? str(pattern) : word(pattern) };
  }

  private rateLimit(): RateLimitNode {
    const { kw, pattern } = this.patternHead('rate_limit "stripe/*": 10 per minute');
    const limit = this.ts.peek();
    if (limit.kind !== 'number') {
      this.ts.error(
        span(limit),
        'expected-token',
        `expected a number of calls, got ${this.ts.describe(limit)}`,
        'rate_limit "stripe/*": 10 per minute',
      );
      throw new ParseAbort();
    }
    this.ts.next();
    const per = this.ts.peek();
    if (!(per.kind === 'word' && per.text === 'per')) {
      this.ts.error(
        span(per),
        'expected-token',
        `expected 'per <window>', got ${this.ts.describe(per)}`,
        per.kind === 'word' ? `did you mean 'per ${per.text}'?` : undefined,
      );
      throw new ParseAbort();
    }
    this.ts.next();
    const windowTok = this.ts.peek();
    if (windowTok.kind !== 'word' || windowTok.newlineBefore) {
      this.ts.error(
        span(windowTok),
        'expected-token',
        `expected a window (second, minute, hour or day) after 'per', got ${this.ts.describe(windowTok)}`,
      );
      throw new ParseAbort();
    }
    this.ts.next();
    return {
      kind: 'RateLimit',
      pattern,
      limit: { kind: 'Number', value: limit.value as number, raw: limit.text, span: span(limit) },
      window: word(windowTok),
      span: { start: kw.start, end: windowTok.end },
    };
  }

  private cost(): CostNode {
    const { kw, pattern } = this.patternHead('cost "stripe/*": $0.02');
    const amount = this.ts.peek();
    if (amount.kind !== 'money' && amount.kind !== 'number') {
      this.ts.error(span(amount), 'expected-token', `expected a dollar amount, got ${this.ts.describe(amount)}`, 'cost "stripe/*": $0.02');
      throw new ParseAbort();
    }
    this.ts.next();
    return {
      kind: 'Cost',
      pattern,
      amount: { kind: amount.kind === 'money' ? 'Money' : 'Number', value: amount.value as number, raw: amount.text, span: span(amount) },
      span: { start: kw.start, end: amount.end },
    };
  }

  private redact(): RedactNode {
    const kw = this.ts.next();
    const tool = this.toolPattern(kw);
    const args = this.ts.peek();
    if (!(args.kind === 'word' && args.text === 'args')) {
      this.ts.error(
        span(args),
        'expected-token',
        `expected 'args: [...]' after the redact tool, got ${this.ts.describe(args)}`,
        'redact stripe/charge args: ["card_number", "cvv"]',
      );
      throw new ParseAbort();
    }
    this.ts.next();
    this.ts.eat(':');
    if (!this.ts.isPunct('[')) {
      const t = this.ts.peek();
      this.ts.error(
        span(t),
        'expected-token',
        `expected a list of argument paths, got ${this.ts.describe(t)}`,
        'redact stripe/charge args: ["card_number", "cvv"]',
      );
      throw new ParseAbort();
    }
    const paths = this.expr.value();
    return { kind: 'Redact', tool, paths: paths as RedactNode['paths'], span: { start: kw.start, end: paths.span.end } };
  }

  private varDecl(): VarNode {
    const kw = this.ts.next();
    const name = this.ts.peek();
    if (name.kind !== 'word' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name.text)) {
      this.ts.error(
        span(name),
        'expected-token',
        `expected a variable name after 'var', got ${this.ts.describe(name)}`,
        'var prod_host = "api.example.com"',
      );
      throw new ParseAbort();
    }
    this.ts.next();
    this.ts.eat('=');
    const value = this.expr.value();
    return { kind: 'Var', name: name.text, nameSpan: span(name), value, span: { start: kw.start, end: value.span.end } };
  }

  private use(): UseNode {
    const kw = this.ts.next();
    const alias = this.ts.peek();
    if (alias.kind !== 'word') {
      this.ts.error(span(alias), 'expected-token', `expected an import alias after 'use', got ${this.ts.describe(alias)}`);
      throw new ParseAbort();
    }
    this.ts.next();
    const node: UseNode = { kind: 'Use', alias: word(alias), params: [], span: { start: kw.start, end: alias.end } };
    if (this.ts.isPunct('{') && !this.ts.peek().newlineBefore) {
      const map = this.expr.value();
      if (map.kind === 'Map') node.params = map.entries;
      node.span.end = map.span.end;
    }
    return node;
  }

  /** `key "<id>" ed25519:<base64>`, `key "<id>" = "<base64>"`, `spiffe_federated "<td>" bundle_url = "…"`. */
  private trustEntry(): TrustEntryNode {
    const kw = this.ts.next();
    let subject: StringLit | undefined;
    if (this.ts.peek().kind === 'string' && !this.ts.peek().newlineBefore) subject = str(this.ts.next());
    const rest = this.ts.restOfLine();
    return {
      kind: 'TrustEntry',
      keyword: kw.text,
      keywordSpan: span(kw),
      ...(subject ? { subject } : {}),
      rest,
      span: { start: kw.start, end: rest.text ? rest.span.end : (subject?.span.end ?? kw.end) },
    };
  }
}

function str(t: Token): StringLit {
  return { kind: 'String', value: t.value as string, span: span(t) };
}

function word(t: Token): WordLit {
  return { kind: 'Word', value: t.text, span: span(t) };
}

function closestClause(text: string): string | undefined {
  for (const c of CLAUSES)
    if (c.length > 2 && (text.startsWith(c.slice(0, 3)) || c.startsWith(text.slice(0, 3)))) return `did you mean '${c}'?`;
  return undefined;
}

/**
 * The canonical FPL printer behind `faramesh fmt`: two-space indentation, one item per line,
 * aligned `=` and values in runs of fields, effects padded to one column, canonical spellings
 * (`if`, `and`/`or`/`not`, `permit`/`deny`), comments and single blank lines kept.
 * It never changes meaning: the IR of the output equals the IR of the input but for positions.
 */
import type {
  AttributeNode,
  BinaryNode,
  BlockNode,
  BodyItem,
  ExprNode,
  FileNode,
  ImportNode,
  RuleNode,
  TopItem,
  ValueNode,
} from './ast.js';
import type { Comment } from './tokens.js';
import { isRuleClause } from './parser.js';

const INDENT = '  ';

export function print(file: FileNode): string {
  return new Printer(file).file();
}

class Printer {
  private readonly out: string[] = [];
  private readonly comments: Comment[];
  private next = 0;

  constructor(private readonly ast: FileNode) {
    this.comments = ast.comments;
  }

  file(): string {
    const cursor = this.items(this.ast.items, '', 0);
    this.leading(Infinity, '', cursor);
    while (this.out.length > 0 && this.out[this.out.length - 1] === '') this.out.pop();
    return this.out.length === 0 ? '' : this.out.join('\n') + '\n';
  }

  private line(offset: number): number {
    return this.ast.source.lineOf(offset);
  }

  /** Source had a blank line between offsets `from` and `to`. */
  private blankBetween(from: number, to: number): boolean {
    return /\n[ \t\r]*\n/.test(this.ast.source.text.slice(from, to));
  }

  /** A single blank line, kept only between two printed lines of the same block. */
  private blank(): void {
    const last = this.out[this.out.length - 1];
    if (last !== undefined && last !== '' && !last.endsWith('{')) this.out.push('');
  }

  /**
   * Own-line comments that start before `offset`, with the blank lines the source had around them.
   * `cursor` is where the previous printed thing ended; returns where the last comment ended.
   */
  private leading(offset: number, indent: string, cursor: number): number {
    while (this.next < this.comments.length && this.comments[this.next]!.start < offset) {
      const c = this.comments[this.next++]!;
      if (this.blankBetween(cursor, c.start)) this.blank();
      this.out.push(`${indent}#${c.text}`.trimEnd());
      cursor = c.end;
    }
    return cursor;
  }

  /** Comments on the same source line as the code just printed, appended to its output line. */
  private trailing(afterOffset: number): void {
    const line = this.line(afterOffset);
    while (this.next < this.comments.length) {
      const c = this.comments[this.next]!;
      if (!c.trailing || this.line(c.start) !== line) break;
      this.next++;
      this.out[this.out.length - 1] += `  #${c.text}`.trimEnd();
    }
  }

  /** Print a list of items; returns the source offset where the last one ended. */
  private items(items: readonly (TopItem | BodyItem)[], indent: string, cursor: number): number {
    const widths = alignment(items);
    for (const item of items) {
      cursor = this.leading(item.span.start, indent, cursor);
      if (this.blankBetween(cursor, item.span.start)) this.blank();
      this.item(item, indent, widths.get(item));
      cursor = item.span.end;
    }
    return cursor;
  }

  private item(item: TopItem | BodyItem, indent: string, width: number | undefined): void {
    switch (item.kind) {
      case 'Import':
        this.out.push(indent + importText(item));
        break;
      case 'Block':
        this.block(item, indent);
        return;
      case 'Attribute':
        this.out.push(
          indent + attributeText(item, width) + (item.junk ? ` ${this.ast.source.text.slice(item.junk.start, item.junk.end)}` : ''),
        );
        // Comments inside the unparsed tokens were printed with them.
        while (item.junk && this.next < this.comments.length && this.comments[this.next]!.start < item.junk.end) this.next++;
        break;
      case 'Rule':
        this.out.push(indent + ruleText(item));
        break;
      case 'RateLimit':
        this.out.push(`${indent}rate_limit ${quote(item.pattern.value)}: ${item.limit.raw} per ${item.window.value}`);
        break;
      case 'Cost':
        this.out.push(`${indent}cost ${quote(item.pattern.value)}: ${item.amount.raw}`);
        break;
      case 'Redact':
        this.out.push(`${indent}redact ${toolText(item.tool)} args: ${valueText(item.paths)}`);
        break;
      case 'Var':
        this.out.push(`${indent}var ${item.name} = ${valueText(item.value)}`);
        break;
      case 'Use':
        this.out.push(
          `${indent}use ${item.alias.value}${item.params.length ? ` { ${item.params.map((p) => attributeText(p, undefined)).join(' ')} }` : ''}`,
        );
        break;
      case 'TrustEntry':
        this.out.push(
          `${indent}${item.keyword}${item.subject ? ` ${quote(item.subject.value)}` : ''}${item.rest.text ? ` ${item.rest.text}` : ''}`,
        );
        break;
    }
    this.trailing(item.span.end);
  }

  private block(block: BlockNode, indent: string): void {
    const labels = block.labels.map((l) => (l.kind === 'String' ? quote(l.value) : l.value));
    const header = [block.type, ...labels].join(' ');
    const hasInnerComments = this.next < this.comments.length && this.comments[this.next]!.start < block.span.end;
    if (block.body.length === 0 && !hasInnerComments) {
      this.out.push(`${indent}${header} {}`);
      this.trailing(block.span.end);
      return;
    }
    this.out.push(`${indent}${header} {`);
    this.trailing(block.typeSpan.start);
    const inner = indent + INDENT;
    const cursor = this.items(block.body, inner, block.typeSpan.end);
    this.leading(block.span.end - 1, inner, cursor);
    this.out.push(`${indent}}`);
    this.trailing(block.span.end);
  }
}

/** Column widths for runs of consecutive fields (no blank line or other item between). */
function alignment(items: readonly (TopItem | BodyItem)[]): Map<TopItem | BodyItem, number> {
  const widths = new Map<TopItem | BodyItem, number>();
  let run: AttributeNode[] = [];
  const flush = () => {
    for (const equals of [true, false]) {
      const group = run.filter((a) => a.equals === equals);
      const width = Math.max(0, ...group.map((a) => a.name.length));
      for (const a of group) widths.set(a, width);
    }
    run = [];
  };
  for (const item of items) {
    if (item.kind === 'Attribute' && item.value.kind !== 'Map' && (item.value.kind !== 'List' || valueText(item.value).length <= 60))
      run.push(item);
    else flush();
  }
  flush();
  return widths;
}

function importText(node: ImportNode): string {
  return `import ${quote(node.path.value)}${node.alias ? ` as ${node.alias.value}` : ''}`;
}

function attributeText(a: AttributeNode, width: number | undefined): string {
  const name = width ? a.name.padEnd(width) : a.name;
  // `name: { … }` is printed with `=`: `name { … }` would read as a block.
  return a.equals || a.value.kind === 'Map' ? `${name} = ${valueText(a.value)}` : `${name} ${valueText(a.value)}`;
}

function toolText(tool: { text: string; quoted: boolean }): string {
  return tool.quoted || !/^[^\s"'#{}()[\],;=<>!$]+$/.test(tool.text) || isRuleClause(tool.text) ? quote(tool.text) : tool.text;
}

function ruleText(rule: RuleNode): string {
  const effect = (rule.strict ? 'deny!' : rule.effect).padEnd(6);
  const parts = [`${effect} ${toolText(rule.tool)}`];
  if (rule.condition) parts.push(`if ${exprText(rule.condition, 0)}`);
  for (const clause of ['host', 'method', 'path'] as const) {
    const v = rule[clause];
    if (v) parts.push(`${clause} ${v.kind === 'String' ? quote(v.value) : v.value}`);
  }
  if (rule.reason) parts.push(`reason ${quote(rule.reason.value)}`);
  if (rule.notify) parts.push(`notify ${quote(rule.notify.value)}`);
  return parts.join(' ');
}

/** Binding strength: higher binds tighter. `not` is looser than comparisons. */
function precedence(e: ExprNode): number {
  if (e.kind === 'Binary') return e.op === 'or' ? 1 : e.op === 'and' ? 2 : 4;
  if (e.kind === 'Not') return 3;
  if (e.kind === 'Paren') return precedence(e.inner);
  return 5;
}

/** Print with the fewest parentheses that keep the tree's exact shape. */
function exprText(e: ExprNode, min: number): string {
  if (e.kind === 'Paren') return exprText(e.inner, min);
  const p = precedence(e);
  const text = e.kind === 'Binary' ? binaryText(e) : e.kind === 'Not' ? `not ${exprText(e.operand, 3)}` : valueText(e as ValueNode);
  return p < min ? `(${text})` : text;
}

function binaryText(e: BinaryNode): string {
  const p = precedence(e);
  // Comparisons take operands, never another comparison or logic without parentheses;
  // and/or are left-associative, so a right operand of the same strength keeps its parentheses.
  const left = exprText(e.left, p === 4 ? 5 : p);
  const right = exprText(e.right, p === 4 ? 5 : p + 1);
  return `${left} ${e.op} ${right}`;
}

export function valueText(v: ValueNode | ExprNode): string {
  switch (v.kind) {
    case 'String':
      return quote(v.value);
    case 'Number':
    case 'Money':
      return v.raw;
    case 'Bool':
      return String(v.value);
    case 'Nil':
      return 'nil';
    case 'Word':
      return v.value;
    case 'List':
      return `[${v.items.map((i) => valueText(i)).join(', ')}]`;
    case 'Map':
      return v.entries.length === 0
        ? '{}'
        : `{ ${v.entries.map((e) => `${/^[A-Za-z_][A-Za-z0-9_-]*$/.test(e.name) ? e.name : quote(e.name)} = ${valueText(e.value)}`).join(', ')} }`;
    case 'Env':
      return `env(${quote(v.name.value)})`;
    case 'Ref':
      return v.path.join('.');
    default:
      return exprText(v, 0);
  }
}

/**
 * A double-quoted FPL string the lexer reads back to the same value. Characters the lexer refuses
 * raw (bidirectional controls, line separators) and lone surrogates, which UTF-8 cannot hold, are
 * written as escapes.
 */
export function quote(s: string): string {
  return `"${s.replace(
    /[\\"\u0000-\u001f\u007f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => {
      if (c === '\\' || c === '"') return `\\${c}`;
      if (c === '\n') return '\\n';
      if (c === '\t') return '\\t';
      if (c === '\r') return '\\r';
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    },
  )}"`;
}

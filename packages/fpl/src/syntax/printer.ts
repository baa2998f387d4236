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
    const parts = item.kind === 'Rule' || item.kind === 'Block' ? undefined : this.itemParts(item, width);
    // (junk is printed verbatim, its comments with it)
    const end = item.kind === 'Attribute' && item.junk ? item.junk.start : item.span.end;
    if (parts && this.next < this.comments.length && this.comments[this.next]!.start < end) {
      this.broken(parts, indent);
      if (item.kind === 'Attribute' && item.junk) {
        this.out[this.out.length - 1] += ` ${this.ast.source.text.slice(item.junk.start, item.junk.end)}`;
        while (this.next < this.comments.length && this.comments[this.next]!.start < item.junk.end) this.next++;
      }
      this.trailing(item.span.end);
      return;
    }
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
        this.rule(item, indent);
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
          // A parameter named by a quoted string (`"a b" = 1`) keeps its quotes, as a map key does.
          `${indent}use ${item.alias.value}${item.params.length ? ` { ${item.params.map((p) => attributeText({ ...p, name: keyText(p.name) }, undefined)).join(' ')} }` : ''}`,
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

  /**
   * A rule, on one line unless comments were written inside it (after a clause, or inside a
   * condition continued on the next lines). Then each comment stays after the piece of the rule
   * it followed (the head, a clause, or an `and`/`or` of the condition): trailing it if it was
   * written so, else on its own line. The rule breaks only where a comment makes it.
   */
  private rule(rule: RuleNode, indent: string): void {
    const endLine = this.line(rule.span.end);
    const inside: Comment[] = [];
    for (let i = this.next; i < this.comments.length && this.comments[i]!.start < rule.span.end; i++) inside.push(this.comments[i]!);
    if (inside.length === 0) {
      this.out.push(indent + ruleText(rule));
      return;
    }
    this.next += inside.length;
    const last = this.comments[this.next];
    if (last?.trailing && this.line(last.start) === endLine) inside.push(this.comments[this.next++]!);

    const pieces = rulePieces(rule);
    const attached = pieces.map((): Comment[] => []);
    for (const c of inside) {
      // The piece written last before the comment (pieces are printed in canonical order, which
      // may not be the order they were written in).
      let at = 0;
      pieces.forEach((p, i) => {
        if (p.anchor <= c.start && p.anchor >= pieces[at]!.anchor) at = i;
      });
      attached[at]!.push(c);
    }
    let line: string | undefined;
    const flush = () => {
      if (line !== undefined) this.out.push(line);
      line = undefined;
    };
    pieces.forEach((piece, i) => {
      const comments = attached[i]!;
      // Own-line comments follow their piece, but those of the last one (written inside it, or
      // after a clause that prints last) go before it: after the rule they would read as
      // comments on the next item. Its trailing comment stays on its line.
      const before = i > 0 && i === pieces.length - 1;
      const candidate = before ? comments[comments.length - 1] : comments[0];
      const trailing = candidate?.trailing ? candidate : undefined;
      const own = comments.filter((c) => c !== trailing);
      const pad = indent + INDENT.repeat(piece.level);
      if (before && own.length > 0) {
        flush();
        for (const c of own) this.out.push(`${pad}#${c.text}`.trimEnd());
      }
      line = line === undefined ? pad + piece.text : `${line} ${piece.text}`;
      if (trailing) line += `  #${trailing.text}`.trimEnd();
      if (before || (!trailing && own.length === 0)) return;
      flush();
      const next = indent + INDENT.repeat(pieces[i + 1]?.level ?? 1);
      for (const c of own) this.out.push(`${next}#${c.text}`.trimEnd());
    });
    flush();
  }

  /** The pieces of an item other than a rule or a block, in the order they are written. */
  private itemParts(item: Exclude<TopItem | BodyItem, RuleNode | BlockNode>, width: number | undefined): Part[] | undefined {
    const head = (text: string): Part => ({ text, anchor: item.span.start });
    switch (item.kind) {
      case 'Attribute':
        return attributeParts(item, width ? item.name.padEnd(width) : item.name);
      case 'Var':
        return [head(`var ${item.name} =`), ...valueParts(item.value)];
      case 'Redact': {
        // `args` may be written on the line after the tool; a comment between them stays there.
        const between = this.ast.source.text
          .slice(item.tool.span.end, item.paths.span.start)
          .replace(/#[^\n]*/g, (c) => ' '.repeat(c.length));
        const args = { text: 'args:', anchor: item.tool.span.end + Math.max(0, between.indexOf('args')) };
        return [head(`redact ${toolText(item.tool)}`), args, ...valueParts(item.paths)];
      }
      case 'Use': {
        const params: Group = {
          open: '{',
          close: '}',
          comma: false,
          inline: item.params.length
            ? `{ ${item.params.map((p) => attributeText({ ...p, name: keyText(p.name) }, undefined)).join(' ')} }`
            : '',
          elements: item.params.map((p) => attributeParts(p, keyText(p.name))),
          anchor: item.alias.span.end,
          end: item.span.end,
        };
        // The alias is a piece of its own: a comment between `use` and it goes before it, not between
        // it and its `{`, which must stay on its line.
        return [head('use'), { text: item.alias.value, anchor: item.alias.span.start }, params];
      }
      case 'RateLimit':
        return [
          head(`rate_limit ${quote(item.pattern.value)}:`),
          { text: item.limit.raw, anchor: item.limit.span.start },
          // (`per` and its window share a line)
          { text: `per ${item.window.value}`, anchor: item.window.span.start },
        ];
      case 'Cost':
        return [head(`cost ${quote(item.pattern.value)}:`), { text: item.amount.raw, anchor: item.amount.span.start }];
      default:
        return undefined;
    }
  }

  /**
   * An item with comments written inside it (in a map, a list, `use` parameters, or between its
   * fields). Every comment stays where it was written, after the piece it followed: trailing it if
   * it was written so, else on its own line. A list or map holding a comment prints one element a
   * line; the item breaks nowhere else but after a comment.
   */
  private broken(parts: Part[], indent: string): void {
    let line: string | undefined;
    const end = () => {
      if (line !== undefined) this.out.push(line);
      line = undefined;
    };
    /** Comments before `offset`, each ending its line; own-line ones at `pad`. */
    const comments = (offset: number, pad: string): void => {
      while (this.next < this.comments.length && this.comments[this.next]!.start < offset) {
        const c = this.comments[this.next++]!;
        if (c.trailing && line !== undefined) line += `  #${c.text}`.trimEnd();
        else {
          end();
          this.out.push(`${pad}#${c.text}`.trimEnd());
        }
        end();
      }
    };
    /** Print `seq` from a new line at `pad`; a piece after a comment starts a line at `more`. */
    const sequence = (seq: Part[], pad: string, more: string): void => {
      seq.forEach((part, i) => {
        comments(part.anchor, more);
        const inside = 'open' in part && this.next < this.comments.length && this.comments[this.next]!.start < part.end;
        // No `use` parameters and no comment among them: nothing to print (not a blank line).
        if ('open' in part && !inside && !part.inline) return;
        line = line === undefined ? (i === 0 ? pad : more) : `${line} `;
        if (!('open' in part)) line += part.text;
        else if (!inside) line += part.inline;
        else {
          // One element a line, one level deeper than the line the bracket opens.
          const outer = /^ */.exec(line)![0];
          const inner = outer + INDENT;
          line += part.open;
          part.elements.forEach((element, j) => {
            comments(element[0]!.anchor, inner);
            end();
            sequence(element, inner, inner + INDENT);
            if (part.comma && j < part.elements.length - 1) line += ',';
          });
          comments(part.end - 1, inner);
          end();
          line = outer + part.close;
        }
      });
    };
    sequence(parts, indent, indent + INDENT);
    end();
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

/** A piece of an item that may print across lines: text, or a list or map of elements. */
type Part = { text: string; anchor: number } | Group;

interface Group {
  open: string;
  close: string;
  /** Elements are separated by commas (lists) or new lines alone (maps). */
  comma: boolean;
  /** The one-line form, printed when no comment is inside. */
  inline: string;
  elements: Part[][];
  /** Where the group starts and ends in the source. */
  anchor: number;
  end: number;
}

/** As attributeText prints it (`name: { … }` with `=`); a map's entries always take `=`. */
function attributeParts(a: AttributeNode, name: string, equals = a.equals || a.value.kind === 'Map'): Part[] {
  return [{ text: equals ? `${name} =` : name, anchor: a.span.start }, ...valueParts(a.value)];
}

function valueParts(v: ValueNode): Part[] {
  if (v.kind !== 'List' && v.kind !== 'Map') return [{ text: valueText(v), anchor: v.span.start }];
  const group = { inline: valueText(v), anchor: v.span.start, end: v.span.end };
  return [
    v.kind === 'List'
      ? { ...group, open: '[', close: ']', comma: true, elements: v.items.map((i) => valueParts(i)) }
      : { ...group, open: '{', close: '}', comma: false, elements: v.entries.map((e) => attributeParts(e, keyText(e.name), true)) },
  ];
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
  return rulePieces(rule)
    .map((p) => p.text)
    .join(' ');
}

/**
 * A piece of a printed rule: the head, a clause, or an `and`/`or` continuing the condition.
 * `anchor` is where it starts in the source; `level` its indentation when it starts a line.
 */
interface Piece {
  text: string;
  anchor: number;
  level: number;
}

/** The rule in canonical order: head, `if`, host, method, path, reason, notify. */
function rulePieces(rule: RuleNode): Piece[] {
  const effect = (rule.strict ? 'deny!' : rule.effect).padEnd(6);
  const pieces: Piece[] = [{ text: `${effect} ${toolText(rule.tool)}`, anchor: rule.span.start, level: 0 }];
  if (rule.condition) {
    const [first, ...rest] = conditionPieces(rule.condition, 0);
    pieces.push({ text: `if ${first!.text}`, anchor: first!.anchor, level: 1 }, ...rest);
  }
  for (const clause of ['host', 'method', 'path'] as const) {
    const v = rule[clause];
    if (v) pieces.push({ text: `${clause} ${v.kind === 'String' ? quote(v.value) : v.value}`, anchor: v.span.start, level: 1 });
  }
  if (rule.reason) pieces.push({ text: `reason ${quote(rule.reason.value)}`, anchor: rule.reason.span.start, level: 1 });
  if (rule.notify) pieces.push({ text: `notify ${quote(rule.notify.value)}`, anchor: rule.notify.span.start, level: 1 });
  return pieces;
}

/**
 * `exprText(e, min)` cut before each `and`/`or` printed without parentheses, where a line may
 * break: the parser reads an operator at the start of a line as continuing the condition.
 */
function conditionPieces(e: ExprNode, min: number): Piece[] {
  const inner = e.kind === 'Paren' ? e.inner : e;
  if (inner.kind === 'Binary' && (inner.op === 'and' || inner.op === 'or') && precedence(inner) >= min) {
    const p = precedence(inner);
    const [right, ...rest] = conditionPieces(inner.right, p + 1);
    return [...conditionPieces(inner.left, p), { text: `${inner.op} ${right!.text}`, anchor: inner.opSpan.start, level: 2 }, ...rest];
  }
  return [{ text: exprText(e, min), anchor: e.span.start, level: 2 }];
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
      return v.entries.length === 0 ? '{}' : `{ ${v.entries.map((e) => `${keyText(e.name)} = ${valueText(e.value)}`).join(', ')} }`;
    case 'Env':
      return `env(${quote(v.name.value)})`;
    case 'Ref':
      return v.path.join('.');
    default:
      return exprText(v, 0);
  }
}

/** A map key: bare if it reads back as one word, else quoted. */
function keyText(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? name : quote(name);
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

/** YAML values → FPL value literals, choosing the node kind the FPL parser would have produced. */
import { isMap, isScalar, isSeq, type Node as YNode, type Scalar } from 'yaml';
import type { AttributeNode, ClauseValue, MoneyLit, NumberLit, ValueNode, WordLit } from '../syntax/ast.js';
import { Diagnostics } from '../syntax/diagnostics.js';
import { MAX_NESTING } from '../syntax/expressions.js';
import { Lexer, numberProblem } from '../syntax/lexer.js';
import { Source, type Span } from '../syntax/source.js';
import { describe, entries, expectMap, expectScalar, spanOf, type Entry, type FormContext } from './context.js';

const FPL_NUMBER = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const MONEY = /^\$((?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)$/;
const ENV_CALL = /^env\(\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*\)$/;
/** Words the FPL value grammar reads as literals, never as bare words. */
const LITERAL_WORDS = new Set(['true', 'false', 'nil', 'null']);

/** True when `text` is one FPL word token, i.e. it could be written unquoted in a `.fms` file. */
export function isBareWord(text: string): boolean {
  if (text === '' || text.length > 1000 || LITERAL_WORDS.has(text)) return false;
  const lexer = new Lexer(new Source('<word>', text), new Diagnostics());
  const t = lexer.next();
  return t.kind === 'word' && t.start === 0 && t.end === text.length;
}

/** Whether `text` lexes as one FPL number or word token (a tool pattern that needs no quotes). */
export function isBareToken(text: string): boolean {
  if (text === '' || text.length > 1000) return false;
  const lexer = new Lexer(new Source('<word>', text), new Diagnostics());
  const t = lexer.next();
  return (t.kind === 'word' || t.kind === 'number') && t.start === 0 && t.end === text.length;
}

/** A scalar's text as written, so `0.80` keeps its spelling in `raw` like the FPL lexer does. */
function numberRaw(ctx: FormContext, scalar: Scalar, value: number): string {
  const range = scalar.range;
  const written = range ? ctx.source.text.slice(range[0], range[1]) : '';
  return FPL_NUMBER.test(written) && Number(written) === value ? written : String(value);
}

function invalid(ctx: FormContext, span: Span, message: string): undefined {
  ctx.diagnostics.error(ctx.source, span, 'invalid-value', message);
  return undefined;
}

export interface ValueOptions {
  /** Budget amounts: FPL writes `max $500`, so a YAML number becomes Money. */
  money?: boolean;
}

/**
 * Any configuration value. Strings stay strings except `env("X")` (an env call) and `$500` (money);
 * a mapping `{env: "X"}` is an env call, other mappings are FPL maps.
 */
export function toValue(ctx: FormContext, node: YNode | null, at: Span, options: ValueOptions = {}, depth = 0): ValueNode | undefined {
  if (node === null) return { kind: 'Nil', span: at };
  const span = spanOf(node, at);
  if (depth > MAX_NESTING) {
    ctx.diagnostics.error(ctx.source, span, 'too-deep', `values nested more than ${MAX_NESTING} levels deep`);
    return undefined;
  }
  if (isSeq(node)) {
    const items: ValueNode[] = [];
    for (const item of node.items as (YNode | null)[]) {
      const v = toValue(ctx, item, span, {}, depth + 1);
      if (v) items.push(v);
    }
    return { kind: 'List', items, span };
  }
  if (isMap(node)) return mapValue(ctx, node, span, depth);
  const scalar = expectScalar(ctx, node, 'a value', span);
  if (!scalar) return undefined;
  const v: unknown = scalar.value;
  if (v === null || v === undefined) return { kind: 'Nil', span };
  if (typeof v === 'boolean') return { kind: 'Bool', value: v, span };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return invalid(ctx, span, `${String(v)} is not a usable number`);
    const raw = numberRaw(ctx, scalar, v);
    if (numberIsInexact(ctx, raw, span)) return undefined;
    return options.money ? { kind: 'Money', value: v, raw: `$${raw}`, span } : { kind: 'Number', value: v, raw, span };
  }
  if (typeof v === 'string') {
    const value = stringValue(v, span);
    return value.kind === 'Money' && numberIsInexact(ctx, value.raw.slice(1), span) ? undefined : value;
  }
  return invalid(ctx, span, `unsupported value: ${describe(scalar)}`);
}

function stringValue(text: string, span: Span): ValueNode {
  const env = ENV_CALL.exec(text);
  if (env) return { kind: 'Env', name: { kind: 'String', value: env[1] ?? env[2] ?? '', span }, span };
  const money = MONEY.exec(text);
  if (money) return { kind: 'Money', value: Number(money[1]), raw: text, span } satisfies MoneyLit;
  return { kind: 'String', value: text, span };
}

function mapValue(ctx: FormContext, node: YNode, span: Span, depth: number): ValueNode | undefined {
  const map = expectMap(ctx, node, 'a value', span);
  if (!map) return undefined;
  const list = entries(ctx, map);
  const only = list.length === 1 ? list[0] : undefined;
  if (only?.key === 'env' && isScalar(only.value) && typeof only.value.value === 'string') {
    return { kind: 'Env', name: { kind: 'String', value: only.value.value, span: spanOf(only.value, span) }, span };
  }
  return { kind: 'Map', entries: attributes(ctx, list, true, depth + 1), span };
}

/** `key: value` entries as FPL attributes (`key = value` when `equals`, else `key value`). */
export function attributes(ctx: FormContext, list: Entry[], equals: boolean, depth = 0): AttributeNode[] {
  const out: AttributeNode[] = [];
  for (const e of list) {
    const attr = attribute(ctx, e, equals, toValue(ctx, e.value, e.keySpan, {}, depth));
    if (attr) out.push(attr);
  }
  return out;
}

export function attribute(ctx: FormContext, e: Entry, equals: boolean, value: ValueNode | undefined): AttributeNode | undefined {
  if (!value) return undefined;
  return { kind: 'Attribute', name: e.key, nameSpan: e.keySpan, value, equals, span: e.span };
}

/** Values FPL writes as bare words (`default deny`, `on_exceed defer`): a word when it can be one. */
export function wordValue(ctx: FormContext, node: YNode | null, at: Span): ValueNode | undefined {
  if (isScalar(node) && typeof node.value === 'string' && isBareWord(node.value)) {
    return { kind: 'Word', value: node.value, span: spanOf(node, at) };
  }
  return toValue(ctx, node, at);
}

/** `host`/`method`/`path` clauses and labels: a word when it can be written bare (so it may name a var), else a string. */
export function wordOrString(value: string, span: Span): ClauseValue {
  return isBareWord(value) ? ({ kind: 'Word', value, span } satisfies WordLit) : { kind: 'String', value, span };
}

export function numberValue(ctx: FormContext, node: YNode | null, what: string, at: Span): NumberLit | undefined {
  const scalar = expectScalar(ctx, node, what, at);
  if (!scalar) return undefined;
  const span = spanOf(scalar, at);
  if (typeof scalar.value !== 'number' || !Number.isFinite(scalar.value)) {
    return invalid(ctx, span, `${what} must be a number, got ${describe(scalar)}`);
  }
  const raw = numberRaw(ctx, scalar, scalar.value);
  if (numberIsInexact(ctx, raw, span)) return undefined;
  return { kind: 'Number', value: scalar.value, raw, span };
}

/** As in FPL text: a number the IR would carry rounded (a whole number past 2^53 − 1) is an error. */
function numberIsInexact(ctx: FormContext, raw: string, span: Span): boolean {
  const problem = numberProblem(raw);
  if (problem) ctx.diagnostics.error(ctx.source, span, 'invalid-number', `${raw} ${problem}`);
  return problem !== undefined;
}

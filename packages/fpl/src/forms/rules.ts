/** Rule-shaped entries: `rules` items, `rate_limits` and `redactions`. */
import { isScalar, type Node as YNode } from 'yaml';
import type {
  ClauseValue,
  CostNode,
  ListLit,
  PolicyEffectWord,
  RateLimitNode,
  RedactNode,
  RuleNode,
  StringLit,
  ToolPatternNode,
} from '../syntax/ast.js';
import { EFFECT_WORDS } from '../syntax/parser.js';
import type { Span } from '../syntax/source.js';
import { didYouMean } from '../syntax/suggest.js';
import { parseCondition } from './condition.js';
import {
  checkKeys,
  entries,
  expectList,
  expectMap,
  expectString,
  missing,
  pick,
  spanOf,
  structureError,
  type Entry,
  type FormContext,
} from './context.js';
import { isBareToken, isBareWord, numberValue, wordOrString } from './values.js';

const RULE_KEYS = ['effect', 'tool', 'condition', 'when', 'if', 'host', 'method', 'path', 'reason', 'notify', 'strict'] as const;
/** Words the FPL rule grammar would read as a clause, so a tool spelled like one must be quoted. */
const CLAUSE_WORDS = new Set(['if', 'when', 'method', 'reason', 'notify']);

/** A list of rules (`rules:` at the top level, in an agent or in a phase). */
export function toRules(ctx: FormContext, entry: Entry): RuleNode[] {
  const items = expectList(ctx, entry.value, `'${entry.key}'`, entry.keySpan);
  const rules: RuleNode[] = [];
  for (const item of items ?? []) {
    const rule = toRule(ctx, item, spanOf(entry.value, entry.keySpan));
    if (rule) rules.push(rule);
  }
  return rules;
}

export function toToolPattern(text: string, span: Span): ToolPatternNode {
  return { kind: 'ToolPattern', text, quoted: !isBareToken(text) || CLAUSE_WORDS.has(text), span };
}

function effectOf(ctx: FormContext, e: Entry): { effect: PolicyEffectWord; strict: boolean; span: Span } | undefined {
  const s = expectString(ctx, e.value, "a rule's 'effect'", e.keySpan);
  if (!s) return undefined;
  if (s.value === 'deny!') return { effect: 'deny', strict: true, span: s.span };
  const effect = Object.hasOwn(EFFECT_WORDS, s.value) ? EFFECT_WORDS[s.value] : undefined;
  if (effect) return { effect, strict: false, span: s.span };
  ctx.diagnostics.error(
    ctx.source,
    s.span,
    'invalid-effect',
    `unknown effect '${s.value}'`,
    didYouMean(s.value, [...Object.keys(EFFECT_WORDS), 'deny!']) ?? 'expected permit, defer, deny or deny!',
  );
  return undefined;
}

/** A condition written as a string, or as a plain boolean/number scalar read as written. */
function conditionOf(ctx: FormContext, e: Entry): RuleNode['condition'] {
  const node = e.value;
  if (isScalar(node) && typeof node.value !== 'string' && node.type === 'PLAIN' && node.range) {
    return parseCondition(ctx, node, ctx.source.text.slice(node.range[0], node.range[1]));
  }
  const s = expectString(ctx, node, "a rule's condition", e.keySpan);
  return s ? parseCondition(ctx, s.node, s.value) : undefined;
}

/** `{effect, tool, condition|when|if, host, method, path, reason, notify, strict}` → a rule. Undefined if unusable. */
export function toRule(ctx: FormContext, node: YNode | null, at: Span): RuleNode | undefined {
  const map = expectMap(ctx, node, 'a rule', at);
  if (!map) return undefined;
  const span = spanOf(map, at);
  const list = checkKeys(ctx, entries(ctx, map), RULE_KEYS, 'a rule');
  let ok = true;
  const effectEntry = pick(ctx, list, ['effect']);
  const toolEntry = pick(ctx, list, ['tool']);
  if (!effectEntry) missing(ctx, span, 'effect', 'a rule', 'e.g. { effect: permit, tool: stripe/refund }');
  if (!toolEntry) missing(ctx, span, 'tool', 'a rule', 'e.g. { effect: permit, tool: stripe/refund }');
  const effect = effectEntry && effectOf(ctx, effectEntry);
  const tool = toolEntry && expectString(ctx, toolEntry.value, "a rule's 'tool'", toolEntry.keySpan);
  if (!effect || !tool) return undefined;
  const rule: RuleNode = {
    kind: 'Rule',
    effect: effect.effect,
    strict: effect.strict,
    effectSpan: effect.span,
    tool: toToolPattern(tool.value, tool.span),
    span,
  };
  const strictEntry = pick(ctx, list, ['strict']);
  if (strictEntry) {
    const v = isScalar(strictEntry.value) ? strictEntry.value.value : undefined;
    if (typeof v !== 'boolean') {
      structureError(ctx, spanOf(strictEntry.value, strictEntry.keySpan), "'strict' must be true or false");
      ok = false;
    } else if (v && rule.effect !== 'deny') {
      ctx.diagnostics.error(ctx.source, strictEntry.keySpan, 'invalid-value', `only deny rules can be strict, not ${rule.effect}`);
      ok = false;
    } else if (v) rule.strict = true;
  }
  const conditionEntry = pick(ctx, list, ['condition', 'when', 'if']);
  if (conditionEntry) {
    const condition = conditionOf(ctx, conditionEntry);
    if (condition) rule.condition = condition;
    else ok = false;
  }
  for (const clause of ['host', 'method', 'path'] as const) {
    const e = pick(ctx, list, [clause]);
    if (!e) continue;
    const s = expectString(ctx, e.value, `a rule's '${clause}'`, e.keySpan);
    if (s) rule[clause] = wordOrString(s.value, s.span) satisfies ClauseValue;
    else ok = false;
  }
  for (const clause of ['reason', 'notify'] as const) {
    const e = pick(ctx, list, [clause]);
    if (!e) continue;
    const s = expectString(ctx, e.value, `a rule's '${clause}'`, e.keySpan);
    if (s) rule[clause] = { kind: 'String', value: s.value, span: s.span };
    else ok = false;
  }
  return ok ? rule : undefined;
}

/** `{pattern, limit, window}` → `rate_limit "pattern": limit per window`. */
export function toRateLimit(ctx: FormContext, node: YNode | null, at: Span): RateLimitNode | undefined {
  const map = expectMap(ctx, node, 'a rate limit', at);
  if (!map) return undefined;
  const span = spanOf(map, at);
  const list = checkKeys(ctx, entries(ctx, map), ['pattern', 'limit', 'window'], 'a rate limit');
  const hint = 'e.g. { pattern: "stripe/*", limit: 10, window: minute }';
  const fields = ['pattern', 'limit', 'window'].map((name) => {
    const e = pick(ctx, list, [name]);
    if (!e) missing(ctx, span, name, 'a rate limit', hint);
    return e;
  });
  const [p, l, w] = fields;
  const pattern = p && expectString(ctx, p.value, "a rate limit's 'pattern'", p.keySpan);
  const limit = l && numberValue(ctx, l.value, "a rate limit's 'limit'", l.keySpan);
  const window = w && expectString(ctx, w.value, "a rate limit's 'window'", w.keySpan);
  if (window && !isBareWord(window.value)) {
    ctx.diagnostics.error(
      ctx.source,
      window.span,
      'invalid-value',
      `'${window.value}' is not a window`,
      'expected second, minute, hour or day',
    );
    return undefined;
  }
  if (!pattern || !limit || !window) return undefined;
  return {
    kind: 'RateLimit',
    pattern: { kind: 'String', value: pattern.value, span: pattern.span },
    limit,
    window: { kind: 'Word', value: window.value, span: window.span },
    span,
  };
}

/** `{pattern, usd}` → `cost "pattern": $usd`. */
export function toCost(ctx: FormContext, node: YNode | null, at: Span): CostNode | undefined {
  const map = expectMap(ctx, node, 'a cost', at);
  if (!map) return undefined;
  const span = spanOf(map, at);
  const list = checkKeys(ctx, entries(ctx, map), ['pattern', 'usd'], 'a cost');
  const p = pick(ctx, list, ['pattern']);
  const u = pick(ctx, list, ['usd']);
  if (!p) missing(ctx, span, 'pattern', 'a cost', 'e.g. { pattern: "stripe/*", usd: 0.02 }');
  if (!u) missing(ctx, span, 'usd', 'a cost', 'e.g. { pattern: "stripe/*", usd: 0.02 }');
  const pattern = p && expectString(ctx, p.value, "a cost's 'pattern'", p.keySpan);
  const usd = u && numberValue(ctx, u.value, "a cost's 'usd'", u.keySpan);
  if (!pattern || !usd) return undefined;
  return {
    kind: 'Cost',
    pattern: { kind: 'String', value: pattern.value, span: pattern.span },
    amount: { kind: 'Money', value: usd.value, raw: `$${usd.raw}`, span: usd.span },
    span,
  };
}

/** `{tool, paths}` → `redact tool args: [paths…]`. */
export function toRedact(ctx: FormContext, node: YNode | null, at: Span): RedactNode | undefined {
  const map = expectMap(ctx, node, 'a redaction', at);
  if (!map) return undefined;
  const span = spanOf(map, at);
  const list = checkKeys(ctx, entries(ctx, map), ['tool', 'paths', 'args'], 'a redaction');
  const hint = 'e.g. { tool: stripe/charge, paths: [card_number, cvv] }';
  const toolEntry = pick(ctx, list, ['tool']);
  const pathsEntry = pick(ctx, list, ['paths', 'args']);
  if (!toolEntry) missing(ctx, span, 'tool', 'a redaction', hint);
  if (!pathsEntry) missing(ctx, span, 'paths', 'a redaction', hint);
  const tool = toolEntry && expectString(ctx, toolEntry.value, "a redaction's 'tool'", toolEntry.keySpan);
  const paths = pathsEntry && stringList(ctx, pathsEntry.value, "a redaction's 'paths'", pathsEntry.keySpan);
  if (!tool || !paths) return undefined;
  return { kind: 'Redact', tool: toToolPattern(tool.value, tool.span), paths, span };
}

function stringList(ctx: FormContext, node: YNode | null, what: string, at: Span): ListLit | undefined {
  const items = expectList(ctx, node, what, at);
  if (!items) return undefined;
  const out: StringLit[] = [];
  for (const item of items) {
    const s = expectString(ctx, item, `each of ${what}`, spanOf(node, at));
    if (!s) return undefined;
    out.push({ kind: 'String', value: s.value, span: s.span });
  }
  return { kind: 'List', items: out, span: spanOf(node, at) };
}

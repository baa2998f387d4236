/** `agent`/`agents` entries → `agent "<id>" { … }` blocks. Body items follow the order of the YAML keys. */
import { isMap, isScalar, isSeq, type Node as YNode } from 'yaml';
import type { AttributeNode, BlockNode, BodyItem, UseNode, VarNode } from '../syntax/ast.js';
import type { Span } from '../syntax/source.js';
import { block, configBlock, configBlocks, namedItems, type NamedItem } from './blocks.js';
import { checkKeys, entries, expectList, expectMap, expectString, missing, pick, spanOf, type Entry, type FormContext } from './context.js';
import { toRateLimit, toCost, toRedact, toRules } from './rules.js';
import { attribute, attributes, isBareWord, toValue, wordValue } from './values.js';

type Handler = (ctx: FormContext, e: Entry) => BodyItem[];

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BUDGET_KEYS = ['max', 'daily', 'max_calls', 'warn_at', 'on_exceed'] as const;

const compact = <T>(items: (T | undefined)[]): T[] => items.filter((x): x is T => x !== undefined);

/** Each item of a list through `one`; anything else is taken as a list of one and judged by `one`. */
function each<T>(ctx: FormContext, e: Entry, one: (ctx: FormContext, node: YNode | null, at: Span) => T | undefined): T[] {
  const items = isSeq(e.value) ? (e.value.items as (YNode | null)[]) : [e.value];
  return compact(items.map((item) => one(ctx, item, spanOf(e.value, e.keySpan))));
}

const equalsAttribute: Handler = (ctx, e) => compact([attribute(ctx, e, true, toValue(ctx, e.value, e.keySpan))]);

function labelled(type: string, body: (ctx: FormContext, item: NamedItem, e: Entry) => BodyItem[]) {
  return (labelKeys: readonly string[], wordLabel = false): Handler =>
    (ctx, e) =>
      namedItems(ctx, e, type, { labelKeys, wordLabel }).map((item) => block(type, e.keySpan, [item.label], body(ctx, item, e), item.span));
}

const plainBody = (ctx: FormContext, item: NamedItem): BodyItem[] => attributes(ctx, item.fields, true);

/** `budget daily { max $500 … }`: attributes without `=`, amounts as money, `on_exceed` as a word. */
function budgetBody(ctx: FormContext, item: NamedItem): BodyItem[] {
  return compact(
    checkKeys(ctx, item.fields, BUDGET_KEYS, 'a budget').map((f) => {
      const value =
        f.key === 'on_exceed'
          ? wordValue(ctx, f.value, f.keySpan)
          : toValue(ctx, f.value, f.keySpan, { money: f.key === 'max' || f.key === 'daily' });
      return attribute(ctx, f, false, value);
    }),
  );
}

/** `phase "name" { duration = "24h" … rules { … } }`. */
function phaseBody(ctx: FormContext, item: NamedItem): BodyItem[] {
  return item.fields.flatMap((f): BodyItem[] =>
    f.key === 'rules' ? [block('rules', f.keySpan, [], toRules(ctx, f), f.span)] : equalsAttribute(ctx, f),
  );
}

function vars(ctx: FormContext, e: Entry): VarNode[] {
  const map = expectMap(ctx, e.value, "'vars'", e.keySpan);
  if (!map) return [];
  return compact(
    entries(ctx, map).map((v) => {
      if (!VAR_NAME.test(v.key)) {
        ctx.diagnostics.error(
          ctx.source,
          v.keySpan,
          'invalid-name',
          `'${v.key}' is not a valid variable name`,
          'use letters, digits and _',
        );
        return undefined;
      }
      const value = toValue(ctx, v.value, v.keySpan);
      return value && { kind: 'Var', name: v.key, nameSpan: v.keySpan, value, span: v.span };
    }),
  );
}

/** `completion_gate: {require: [a, b]}` (or just the list) → one `require "…"` per item. */
function completionGate(ctx: FormContext, e: Entry): BodyItem[] {
  let requireEntry: Entry | undefined = { ...e, key: 'require' };
  if (isMap(e.value)) requireEntry = pick(ctx, checkKeys(ctx, entries(ctx, e.value), ['require'], "'completion_gate'"), ['require']);
  const body: AttributeNode[] = [];
  if (requireEntry) {
    const items = isScalar(requireEntry.value)
      ? [requireEntry.value]
      : expectList(ctx, requireEntry.value, "'require'", requireEntry.keySpan);
    for (const item of items ?? []) {
      const s = expectString(ctx, item, "each 'require'", requireEntry.keySpan);
      if (s)
        body.push({
          kind: 'Attribute',
          name: 'require',
          nameSpan: requireEntry.keySpan,
          value: { kind: 'String', value: s.value, span: s.span },
          equals: false,
          span: s.span,
        });
    }
  }
  return [block('completion_gate', e.keySpan, [], body, e.span)];
}

/** `use: [{alias: stripe_rules, params: {…}}]` or `use: [stripe_rules]`. */
function toUse(ctx: FormContext, node: YNode | null, at: Span): UseNode | undefined {
  const span = spanOf(node, at);
  let aliasNode: YNode | null = node;
  let params: AttributeNode[] = [];
  if (!isScalar(node)) {
    const map = expectMap(ctx, node, "each of 'use'", at);
    if (!map) return undefined;
    const list = checkKeys(ctx, entries(ctx, map), ['alias', 'params'], "a 'use'");
    const alias = pick(ctx, list, ['alias']);
    if (!alias) {
      missing(ctx, span, 'alias', "a 'use'", 'e.g. { alias: stripe_rules, params: { refund_threshold: 500 } }');
      return undefined;
    }
    aliasNode = alias.value;
    const p = pick(ctx, list, ['params']);
    if (p) {
      const pm = expectMap(ctx, p.value, "'params'", p.keySpan);
      if (!pm) return undefined;
      params = attributes(ctx, entries(ctx, pm), true);
    }
  }
  const alias = expectString(ctx, aliasNode, "a 'use' alias", span);
  if (!alias) return undefined;
  if (!isBareWord(alias.value)) {
    ctx.diagnostics.error(ctx.source, alias.span, 'invalid-name', `'${alias.value}' is not an import alias`);
    return undefined;
  }
  return { kind: 'Use', alias: { kind: 'Word', value: alias.value, span: alias.span }, params, span };
}

const AGENT_FIELDS = new Map<string, Handler>([
  ['default', (ctx, e) => compact([attribute(ctx, e, false, wordValue(ctx, e.value, e.keySpan))])],
  ['model', equalsAttribute],
  ['framework', equalsAttribute],
  ['version', equalsAttribute],
  ['vars', vars],
  ['rules', (ctx, e) => [block('rules', e.keySpan, [], toRules(ctx, e), e.span)]],
  ['rate_limits', (ctx, e) => each(ctx, e, toRateLimit)],
  ['redactions', (ctx, e) => each(ctx, e, toRedact)],
  ['costs', (ctx, e) => each(ctx, e, toCost)],
  ['budgets', labelled('budget', budgetBody)(['id'], true)],
  ...['egress', 'model_policy', 'session', 'spawn', 'enforcement', 'ambient'].map((type): [string, Handler] => [
    type,
    (ctx, e) => compact([configBlock(ctx, type, e)]),
  ]),
  ['completion_gate', completionGate],
  ['alerts', (ctx, e) => configBlocks(ctx, 'alert', e)],
  ['alert', (ctx, e) => configBlocks(ctx, 'alert', e)],
  ['delegate', (ctx, e) => configBlocks(ctx, 'delegate', e)],
  ['delegates', (ctx, e) => configBlocks(ctx, 'delegate', e)],
  ['phases', labelled('phase', phaseBody)(['name', 'id'])],
  ['selectors', labelled('selector', plainBody)(['id', 'name'])],
  ['credentials', labelled('credential', plainBody)(['id', 'name'])],
  ['use', (ctx, e) => each(ctx, e, toUse)],
]);

export function toAgents(ctx: FormContext, e: Entry): BlockNode[] {
  return namedItems(ctx, e, 'agent', { labelKeys: ['id'] }).map((item) => {
    const body = checkKeys(ctx, item.fields, [...AGENT_FIELDS.keys()], `agent '${item.label.value}'`).flatMap((f) =>
      AGENT_FIELDS.get(f.key)!(ctx, f),
    );
    return block('agent', e.keySpan, [item.label], body, item.span);
  });
}

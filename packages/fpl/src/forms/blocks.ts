/** Building blocks: attribute-bag blocks and labelled blocks given as a list or as a name-keyed mapping. */
import { isMap, isScalar, isSeq, type Node as YNode } from 'yaml';
import type { BlockNode, BodyItem, StringLit, WordLit } from '../syntax/ast.js';
import type { Span } from '../syntax/source.js';
import {
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
import { attributes, isBareWord } from './values.js';

export function block(type: string, typeSpan: Span, labels: (StringLit | WordLit)[], body: BodyItem[], span: Span): BlockNode {
  return { kind: 'Block', type, typeSpan, labels, body, span };
}

/** `egress: {allow: [...]}` → `egress { allow = [...] }`: every key becomes an `=` attribute. */
export function configBlock(ctx: FormContext, type: string, e: Entry): BlockNode | undefined {
  const map = expectMap(ctx, e.value, `'${e.key}'`, e.keySpan);
  if (!map) return undefined;
  return block(type, e.keySpan, [], attributes(ctx, entries(ctx, map), true), e.span);
}

/** One block per item of a list, or a single block for a lone mapping (`alerts`, `delegate`). */
export function configBlocks(ctx: FormContext, type: string, e: Entry): BlockNode[] {
  const out: BlockNode[] = [];
  for (const item of expectList(ctx, e.value, `'${e.key}'`, e.keySpan, true) ?? []) {
    const map = expectMap(ctx, item, `each of '${e.key}'`, spanOf(e.value, e.keySpan));
    // A lone mapping's block spans its key too; list items span just themselves.
    if (map)
      out.push(block(type, e.keySpan, [], attributes(ctx, entries(ctx, map), true), item === e.value ? e.span : spanOf(map, e.span)));
  }
  return out;
}

export interface NamedItem {
  label: StringLit | WordLit;
  /** The item's entries other than its label. */
  fields: Entry[];
  span: Span;
}

export interface NamedOptions {
  /** Keys that may carry the label in the list form, e.g. `id` or `name`. */
  labelKeys: readonly string[];
  /** Budgets are labelled with words (`budget daily`); everything else with strings. */
  wordLabel?: boolean;
}

/**
 * Labelled entries written either as a list of mappings carrying their label (`- id: bot`) or as a
 * mapping from label to fields (`bot: {…}`). A single mapping that carries a label key is one item.
 */
export function namedItems(ctx: FormContext, e: Entry, what: string, options: NamedOptions): NamedItem[] {
  const value = e.value;
  const out: NamedItem[] = [];
  const makeLabel = (text: string, span: Span): StringLit | WordLit =>
    options.wordLabel && isBareWord(text) ? { kind: 'Word', value: text, span } : { kind: 'String', value: text, span };
  const carriesLabel =
    isMap(value) && value.items.some((p) => isScalar(p.key) && options.labelKeys.includes(String(p.key.value)) && isScalar(p.value));
  if (isMap(value) && !carriesLabel) {
    for (const item of entries(ctx, value)) {
      const fields =
        item.value !== null && isScalar(item.value) && item.value.value === null
          ? []
          : fieldsOf(ctx, item.value, `${what} '${item.key}'`, item.keySpan);
      if (fields) out.push({ label: makeLabel(item.key, item.keySpan), fields, span: item.span });
    }
    return out;
  }
  const items = isSeq(value)
    ? (value.items as (YNode | null)[])
    : carriesLabel
      ? [value]
      : expectList(ctx, value, `'${e.key}'`, e.keySpan, true);
  for (const item of items ?? []) {
    const map = expectMap(ctx, item, `each of '${e.key}'`, spanOf(value, e.keySpan));
    if (!map) continue;
    const span = spanOf(map, e.span);
    const all = entries(ctx, map);
    const labelEntry = pick(ctx, all, options.labelKeys);
    if (!labelEntry) {
      missing(ctx, span, options.labelKeys[0]!, what, `give each ${what} '${options.labelKeys.join("' or '")}'`);
      continue;
    }
    const label = expectString(ctx, labelEntry.value, `the ${labelEntry.key} of ${what}`, labelEntry.keySpan);
    if (label) out.push({ label: makeLabel(label.value, label.span), fields: all.filter((x) => x !== labelEntry), span });
  }
  return out;
}

function fieldsOf(ctx: FormContext, node: YNode | null, what: string, at: Span): Entry[] | undefined {
  if (!isMap(node)) {
    structureError(ctx, spanOf(node, at), `${what} must be a mapping of its fields`);
    return undefined;
  }
  return entries(ctx, node);
}

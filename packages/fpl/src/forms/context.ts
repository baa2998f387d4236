/** Shared helpers for reading a composed YAML tree: typed access, spans and structural diagnostics. */
import { isAlias, isMap, isScalar, isSeq, type Node as YNode, type Scalar, type YAMLMap } from 'yaml';
import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Source, Span } from '../syntax/source.js';
import { didYouMean } from '../syntax/suggest.js';

export interface FormContext {
  source: Source;
  diagnostics: Diagnostics;
}

/** One `key: value` of a mapping, with the key already read as text. */
export interface Entry {
  key: string;
  keySpan: Span;
  /** null for a key with no value node at all (`? key`). */
  value: YNode | null;
  /** From the key to the end of the value. */
  span: Span;
}

export function spanOf(node: YNode | null | undefined, fallback: Span): Span {
  const range = node?.range;
  return range ? { start: range[0], end: Math.max(range[0], range[1]) } : fallback;
}

export function describe(node: YNode | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}…` : v)}`;
    if (typeof v === 'number') return `the number ${String(v)}`;
    if (typeof v === 'boolean') return String(v);
  }
  return 'an unsupported value';
}

export function structureError(ctx: FormContext, span: Span, message: string, hint?: string): void {
  ctx.diagnostics.error(ctx.source, span, 'invalid-structure', message, hint);
}

/** Aliases are refused rather than expanded: expansion can blow up and would give nodes two places in the file. */
function rejectAlias(ctx: FormContext, node: YNode | null): boolean {
  if (!isAlias(node)) return false;
  ctx.diagnostics.error(
    ctx.source,
    spanOf(node, { start: 0, end: 0 }),
    'yaml-alias',
    `YAML aliases (*${node.source}) are not supported in policy files`,
    'write the value out in full',
  );
  return true;
}

export function expectMap(ctx: FormContext, node: YNode | null, what: string, at: Span): YAMLMap | undefined {
  if (rejectAlias(ctx, node)) return undefined;
  if (isMap(node)) return node;
  structureError(ctx, spanOf(node, at), `${what} must be a mapping, got ${describe(node)}`);
  return undefined;
}

/** The items of a list; with `single`, a lone mapping is accepted as a list of one. */
export function expectList(ctx: FormContext, node: YNode | null, what: string, at: Span, single = false): (YNode | null)[] | undefined {
  if (rejectAlias(ctx, node)) return undefined;
  if (isSeq(node)) return node.items as (YNode | null)[];
  if (single && isMap(node)) return [node];
  structureError(ctx, spanOf(node, at), `${what} must be a list${single ? ' or a mapping' : ''}, got ${describe(node)}`);
  return undefined;
}

export function expectScalar(ctx: FormContext, node: YNode | null, what: string, at: Span): Scalar | undefined {
  if (rejectAlias(ctx, node)) return undefined;
  if (isScalar(node)) return node;
  structureError(ctx, spanOf(node, at), `${what} must be a single value, got ${describe(node)}`);
  return undefined;
}

export function expectString(
  ctx: FormContext,
  node: YNode | null,
  what: string,
  at: Span,
): { value: string; span: Span; node: Scalar } | undefined {
  const scalar = expectScalar(ctx, node, what, at);
  if (!scalar) return undefined;
  if (typeof scalar.value === 'string') return { value: scalar.value, span: spanOf(scalar, at), node: scalar };
  structureError(ctx, spanOf(scalar, at), `${what} must be a string, got ${describe(scalar)}`);
  return undefined;
}

/** The entries of a mapping in written order. Keys must be scalars; numbers and booleans are read as written. */
export function entries(ctx: FormContext, map: YAMLMap): Entry[] {
  const out: Entry[] = [];
  for (const pair of map.items) {
    const keyNode = pair.key as YNode | null;
    const value = (pair.value as YNode | null) ?? null;
    if (rejectAlias(ctx, keyNode)) continue;
    if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
      structureError(ctx, spanOf(keyNode, spanOf(map, { start: 0, end: 0 })), 'mapping keys must be plain names');
      continue;
    }
    const keySpan = spanOf(keyNode, { start: 0, end: 0 });
    const key = typeof keyNode.value === 'string' ? keyNode.value : ctx.source.text.slice(keySpan.start, keySpan.end);
    const end = value?.range ? Math.max(keySpan.end, value.range[1]) : keySpan.end;
    out.push({ key, keySpan, value, span: { start: keySpan.start, end } });
  }
  return out;
}

/** Report keys that are not in `allowed`, with the closest allowed key as a hint. */
export function checkKeys(ctx: FormContext, list: Entry[], allowed: readonly string[], where: string): Entry[] {
  const known = new Set(allowed);
  return list.filter((e) => {
    if (known.has(e.key)) return true;
    ctx.diagnostics.error(
      ctx.source,
      e.keySpan,
      'unknown-field',
      `unknown field '${e.key}' in ${where}`,
      didYouMean(e.key, allowed) ?? `expected one of: ${allowed.join(', ')}`,
    );
    return false;
  });
}

/** The entry spelled by any of `names` (synonyms); more than one spelling is an error. */
export function pick(ctx: FormContext, list: Entry[], names: readonly string[]): Entry | undefined {
  const found = list.filter((e) => names.includes(e.key));
  for (const extra of found.slice(1)) {
    ctx.diagnostics.error(ctx.source, extra.keySpan, 'duplicate-field', `'${extra.key}' repeats '${found[0]!.key}'`, 'give it only once');
  }
  return found[0];
}

export function missing(ctx: FormContext, span: Span, field: string, where: string, hint?: string): void {
  ctx.diagnostics.error(ctx.source, span, 'missing-field', `${where} needs '${field}'`, hint);
}

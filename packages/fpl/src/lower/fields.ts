import type {
  AttributeNode,
  BlockNode,
  BodyItem,
  RateLimitNode,
  RedactNode,
  RuleNode,
  TrustEntryNode,
  UseNode,
  VarNode,
  CostNode,
} from '../syntax/ast.js';
import { EFFECT_WORDS } from '../syntax/parser.js';
import { didYouMean } from '../syntax/suggest.js';
import type { IRValue } from '../ir.js';
import { BLOCKS, EFFECTS, type BlockSpec } from '../schema.js';
import type { LowerContext } from './context.js';
import { anyValue, lowerField } from './values.js';

export interface BodyHandlers {
  block?: (node: BlockNode) => void;
  rule?: (node: RuleNode) => void;
  rate_limit?: (node: RateLimitNode) => void;
  redact?: (node: RedactNode) => void;
  cost?: (node: CostNode) => void;
  var?: (node: VarNode) => void;
  use?: (node: UseNode) => void;
  'trust-entry'?: (node: TrustEntryNode) => void;
}

export interface Fields {
  values: Map<string, IRValue>;
  /** Every attribute node by name (repeated fields keep all). */
  nodes: Map<string, AttributeNode[]>;
}

const STATEMENT_OF: Record<string, keyof BodyHandlers> = {
  Rule: 'rule',
  RateLimit: 'rate_limit',
  Redact: 'redact',
  Cost: 'cost',
  Var: 'var',
  Use: 'use',
  TrustEntry: 'trust-entry',
};

const STATEMENT_WORD: Record<string, string> = {
  rule: 'rules',
  rate_limit: 'rate_limit',
  redact: 'redact',
  cost: 'cost',
  var: 'var',
  use: 'use',
  'trust-entry': 'trust entries',
};

/** Check a block's labels against its spec. */
export function checkLabels(ctx: LowerContext, block: BlockNode, spec: BlockSpec): string | undefined {
  const label = block.labels[0]?.value;
  if (spec.labels === 'none' && block.labels.length > 0) {
    ctx.error(block.labels[0]!.span, 'unexpected-label', `'${block.type}' takes no name: write ${block.type} { … }`);
  } else if (spec.labels === 'one' && block.labels.length === 0) {
    ctx.error(block.typeSpan, 'missing-label', `'${block.type}' needs a name: ${block.type} "<name>" { … }`);
  } else if (block.labels.length > 1) {
    ctx.error(block.labels[1]!.span, 'unexpected-label', `'${block.type}' takes one name, got ${block.labels.length}`);
  }
  return label;
}

/**
 * Walk a block body against its spec: fields are type-checked and collected; statements and
 * nested blocks go to their handlers; anything the block does not accept is reported with a
 * suggestion drawn from what it does accept.
 */
export function walkBody(ctx: LowerContext, block: BlockNode, spec: BlockSpec, handlers: BodyHandlers): Fields {
  const values = new Map<string, IRValue>();
  const nodes = new Map<string, AttributeNode[]>();
  const vocabulary = [
    ...Object.keys(spec.fields),
    ...(spec.blocks ?? []),
    ...(spec.statements ?? []).map((st) => STATEMENT_WORD[st]!).filter((w) => w !== 'rules' && w !== 'trust entries'),
    // A misspelt effect parses as a field; suggest the effect it was meant to be.
    ...((spec.statements ?? []).includes('rule') ? [...EFFECTS, ...Object.keys(EFFECT_WORDS)] : []),
  ];
  const seenBlocks = new Map<string, BlockNode>();

  for (const item of block.body) {
    if (item.kind === 'Attribute') {
      attribute(ctx, block, spec, item, values, nodes, vocabulary);
    } else if (item.kind === 'Block') {
      nestedBlock(ctx, block, spec, item, handlers, vocabulary, seenBlocks);
    } else {
      statement(ctx, block, spec, item, handlers);
    }
  }
  return { values, nodes };
}

function attribute(
  ctx: LowerContext,
  block: BlockNode,
  spec: BlockSpec,
  item: AttributeNode,
  values: Map<string, IRValue>,
  nodes: Map<string, AttributeNode[]>,
  vocabulary: string[],
): void {
  const field = Object.hasOwn(spec.fields, item.name) ? spec.fields[item.name] : undefined;
  const previous = nodes.get(item.name);
  if (previous && !field?.repeated) {
    ctx.error(
      item.nameSpan,
      'duplicate-field',
      `'${item.name}' is set twice in ${where(block)} (first at line ${ctx.source.lineOf(previous[0]!.span.start)})`,
    );
    return;
  }
  nodes.set(item.name, [...(previous ?? []), item]);
  if (item.junk && (field || spec.openFields)) {
    ctx.error(
      item.junk,
      'unexpected-token',
      `unexpected '${ctx.source.text.slice(item.junk.start, Math.min(item.junk.end, item.junk.start + 30))}' after the value of '${item.name}'`,
    );
    return;
  }
  if (!field) {
    if (spec.openFields) {
      values.set(item.name, anyValue(ctx, item.value));
      return;
    }
    const isBlock = (spec.blocks ?? []).includes(item.name);
    ctx.error(
      item.nameSpan,
      'unknown-field',
      isBlock ? `'${item.name}' is a block in ${where(block)}: write ${item.name} { … }` : `${where(block)}: unknown field '${item.name}'`,
      isBlock ? undefined : (misplaced(spec, item.name) ?? synonym(spec, item.name) ?? didYouMean(item.name, vocabulary)),
    );
    return;
  }
  const v = lowerField(ctx, item.name, field, item.value, spec.envAnywhere);
  if (v === undefined) return;
  if (field.repeated) {
    const list = (values.get(item.name) as IRValue[] | undefined) ?? [];
    list.push(v);
    values.set(item.name, list);
  } else {
    values.set(item.name, v);
  }
}

function nestedBlock(
  ctx: LowerContext,
  parent: BlockNode,
  spec: BlockSpec,
  item: BlockNode,
  handlers: BodyHandlers,
  vocabulary: string[],
  seen: Map<string, BlockNode>,
): void {
  if (!(spec.blocks ?? []).includes(item.type) || !handlers.block) {
    const field = Object.hasOwn(spec.fields, item.type);
    ctx.error(
      item.typeSpan,
      'unknown-block',
      field ? `'${item.type}' is a field in ${where(parent)}, not a block` : `${where(parent)}: unknown block '${item.type}'`,
      field ? `write ${item.type} = …` : didYouMean(item.type, vocabulary),
    );
    return;
  }
  const childSpec = BLOCKS[item.type]!;
  const label = item.labels[0]?.value;
  const key = `${item.type}\u0000${label ?? ''}`;
  // Repeatable blocks clash only by name: two unnamed `alert { }` or `delegate { }` blocks are fine.
  const first = childSpec.repeatable ? (label === undefined ? undefined : seen.get(key)) : seen.get(item.type);
  if (first) {
    const name = item.labels[0] ? ` "${item.labels[0].value}"` : '';
    ctx.error(
      item.typeSpan,
      'duplicate-block',
      `${where(parent)} declares '${item.type}${name}' twice (first at line ${ctx.source.lineOf(first.span.start)})`,
    );
    return;
  }
  seen.set(key, item);
  seen.set(item.type, item);
  handlers.block(item);
}

function statement(
  ctx: LowerContext,
  block: BlockNode,
  spec: BlockSpec,
  item: Exclude<BodyItem, AttributeNode | BlockNode>,
  handlers: BodyHandlers,
): void {
  const kind = STATEMENT_OF[item.kind]!;
  const handler = handlers[kind] as ((n: typeof item) => void) | undefined;
  if (!(spec.statements ?? []).includes(kind) || !handler) {
    ctx.error(
      item.span,
      'misplaced-statement',
      `${STATEMENT_WORD[kind]} cannot appear in ${where(block)}`,
      kind === 'rule'
        ? 'put rules in a rules { … } block of an agent'
        : kind === 'rate_limit' || kind === 'redact'
          ? `put ${kind} inside an agent "<id>" { … } block`
          : undefined,
    );
    return;
  }
  handler(item);
}

function misplaced(spec: BlockSpec, name: string): string | undefined {
  return spec.misplaced && Object.hasOwn(spec.misplaced, name) ? spec.misplaced[name] : undefined;
}

function synonym(spec: BlockSpec, name: string): string | undefined {
  const meant = spec.synonyms && Object.hasOwn(spec.synonyms, name) ? spec.synonyms[name] : undefined;
  return meant === undefined ? undefined : `did you mean '${meant}'?`;
}

export function where(block: BlockNode): string {
  const label = block.labels[0];
  return label ? `${block.type} "${label.value}"` : `'${block.type}'`;
}

/** The top level of a YAML/JSON policy → the items of an FPL file, in the order of the keys. */
import { isMap, isScalar, type Node as YNode } from 'yaml';
import type { ImportNode, TopItem, TrustEntryNode } from '../syntax/ast.js';
import type { Span } from '../syntax/source.js';
import { toAgents } from './agent.js';
import { block, configBlock, namedItems } from './blocks.js';
import { checkKeys, entries, expectList, expectMap, expectString, missing, pick, spanOf, type Entry, type FormContext } from './context.js';
import { toRules } from './rules.js';
import { attributes } from './values.js';

type TopHandler = (ctx: FormContext, e: Entry) => TopItem[];

const ALIAS = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `"path"` or `{path|ref|source, as|alias}` → `import "path" [as alias]`. */
function toImport(ctx: FormContext, node: YNode | null, at: Span): ImportNode | undefined {
  const span = spanOf(node, at);
  if (isScalar(node)) {
    const path = expectString(ctx, node, 'an import', at);
    return path && { kind: 'Import', path: { kind: 'String', value: path.value, span: path.span }, span };
  }
  const map = expectMap(ctx, node, 'an import', at);
  if (!map) return undefined;
  const list = checkKeys(ctx, entries(ctx, map), ['path', 'ref', 'source', 'as', 'alias'], 'an import');
  const pathEntry = pick(ctx, list, ['path', 'ref', 'source']);
  if (!pathEntry) {
    missing(
      ctx,
      span,
      'path',
      'an import',
      'e.g. { path: "github.com/faramesh/faramesh-registry/policies/stripe@1.3.0", as: stripe_rules }',
    );
    return undefined;
  }
  const path = expectString(ctx, pathEntry.value, "an import's path", pathEntry.keySpan);
  if (!path) return undefined;
  const node_: ImportNode = { kind: 'Import', path: { kind: 'String', value: path.value, span: path.span }, span };
  const aliasEntry = pick(ctx, list, ['as', 'alias']);
  if (aliasEntry) {
    const alias = expectString(ctx, aliasEntry.value, "an import's alias", aliasEntry.keySpan);
    if (!alias) return undefined;
    if (!ALIAS.test(alias.value)) {
      ctx.diagnostics.error(
        ctx.source,
        alias.span,
        'invalid-name',
        `'${alias.value}' is not a valid import alias`,
        'use letters, digits, _ and -',
      );
      return undefined;
    }
    node_.alias = { kind: 'Word', value: alias.value, span: alias.span };
  }
  return node_;
}

function imports(ctx: FormContext, e: Entry): ImportNode[] {
  const items = isScalar(e.value) || isMap(e.value) ? [e.value] : expectList(ctx, e.value, `'${e.key}'`, e.keySpan);
  const out: ImportNode[] = [];
  for (const item of items ?? []) {
    const node = toImport(ctx, item, spanOf(e.value, e.keySpan));
    if (node) out.push(node);
  }
  return out;
}

/** `trust: {keys: [{registry, key}]}` → `trust { key "registry" ed25519:… }`. */
function trust(ctx: FormContext, e: Entry): TopItem[] {
  const map = expectMap(ctx, e.value, "'trust'", e.keySpan);
  if (!map) return [];
  const keysEntry = pick(ctx, checkKeys(ctx, entries(ctx, map), ['keys'], "'trust'"), ['keys']);
  const body: TrustEntryNode[] = [];
  for (const item of (keysEntry && expectList(ctx, keysEntry.value, "'keys'", keysEntry.keySpan)) ?? []) {
    const at = spanOf(keysEntry?.value, e.keySpan);
    const m = expectMap(ctx, item, 'a trusted key', at);
    if (!m) continue;
    const span = spanOf(m, at);
    const list = checkKeys(ctx, entries(ctx, m), ['registry', 'id', 'key'], 'a trusted key');
    const subjectEntry = pick(ctx, list, ['registry', 'id']);
    const keyEntry = pick(ctx, list, ['key']);
    if (!keyEntry) {
      missing(ctx, span, 'key', 'a trusted key', 'e.g. { registry: github.com/faramesh/faramesh-registry, key: "ed25519:…" }');
      continue;
    }
    const key = expectString(ctx, keyEntry.value, 'a trusted key', keyEntry.keySpan);
    const subject = subjectEntry && expectString(ctx, subjectEntry.value, "a trusted key's registry", subjectEntry.keySpan);
    if (!key || (subjectEntry && !subject)) continue;
    body.push({
      kind: 'TrustEntry',
      keyword: 'key',
      keywordSpan: keyEntry.keySpan,
      ...(subject ? { subject: { kind: 'String' as const, value: subject.value, span: subject.span } } : {}),
      rest: { text: key.value, span: key.span },
      span,
    });
  }
  return [block('trust', e.keySpan, [], body, e.span)];
}

function labelledConfig(type: string): TopHandler {
  return (ctx, e) =>
    namedItems(ctx, e, type, { labelKeys: ['name'] }).map((item) =>
      block(type, e.keySpan, [item.label], attributes(ctx, item.fields, true), item.span),
    );
}

const TOP_FIELDS = new Map<string, TopHandler>([
  ['import', imports],
  ['imports', imports],
  ['runtime', (ctx, e) => [configBlock(ctx, 'runtime', e)].filter((b) => b !== undefined)],
  ['provider', labelledConfig('provider')],
  ['providers', labelledConfig('provider')],
  ['identity', labelledConfig('identity')],
  ['identities', labelledConfig('identity')],
  ['mcp_server', labelledConfig('mcp_server')],
  ['mcp_servers', labelledConfig('mcp_server')],
  ['trust', trust],
  ['rules', toRules],
  ['agent', toAgents],
  ['agents', toAgents],
]);

export function toItems(ctx: FormContext, root: YNode | null): TopItem[] {
  // An empty document is an empty policy, as an empty .fms file is.
  if (root === null || (isScalar(root) && root.value === null)) return [];
  const map = expectMap(ctx, root, 'a policy file', { start: 0, end: 0 });
  if (!map) return [];
  const list = checkKeys(ctx, entries(ctx, map), [...TOP_FIELDS.keys()], 'the policy file');
  return list.flatMap((e) => TOP_FIELDS.get(e.key)!(ctx, e));
}

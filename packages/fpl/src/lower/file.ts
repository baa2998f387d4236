import type { AttributeNode, BlockNode, FileNode, RuleNode, TrustEntryNode } from '../syntax/ast.js';
import { didYouMean } from '../syntax/suggest.js';
import { fetchableKeyUrl } from '../urls.js';
import { emptyPolicy, type IRValue, type PolicyIR, type ProviderIR } from '../ir.js';
import { BLOCKS, EFFECTS, IDENTITY_TYPES, KMS_BACKENDS, PROVIDER_COMMON_FIELDS, PROVIDER_TYPES, TOP_LEVEL_BLOCKS } from '../schema.js';
import { lowerAgent } from './agent.js';
import type { LowerContext } from './context.js';
import { checkLabels, walkBody, where } from './fields.js';
import { lowerMcpServer } from './mcp.js';
import { lowerRule } from './rules.js';

const STATEMENT_NAMES: Record<string, string> = {
  RateLimit: 'rate_limit',
  Redact: 'redact',
  Cost: 'cost',
  Var: 'var',
  Use: 'use',
  TrustEntry: 'a trust entry',
};

const NO_SCOPE = { vars: new Map<string, IRValue>(), selectors: new Set<string>() };

/** Lower one parsed file (local or imported) to IR. Imports are listed by the caller. */
export function lowerFile(ctx: LowerContext, file: FileNode): PolicyIR {
  const ir: PolicyIR = emptyPolicy();
  const seen = new Map<string, BlockNode>();
  const agentBlocks: BlockNode[] = [];

  for (const item of file.items) {
    if (item.kind === 'Rule') {
      const rule = lowerRule(ctx, item, NO_SCOPE);
      if (rule) ir.rules.push(rule);
      continue;
    }
    if (item.kind !== 'Block') {
      if (item.kind === 'Attribute') {
        const hint = didYouMean(item.name, [...TOP_LEVEL_BLOCKS, 'import', ...EFFECTS]);
        ctx.error(
          item.nameSpan,
          'unknown-field',
          `unknown top-level item '${item.name}'`,
          hint ?? 'the top level holds import, runtime, provider, identity, mcp_server, trust, agent, pack and rules',
        );
      } else if (item.kind !== 'Import') {
        ctx.error(
          item.span,
          'misplaced-statement',
          `${STATEMENT_NAMES[item.kind]} cannot appear at the top level: it belongs inside an agent "<id>" { … } block`,
        );
      }
      continue;
    }
    if (!(TOP_LEVEL_BLOCKS as readonly string[]).includes(item.type)) {
      const known = Object.hasOwn(BLOCKS, item.type);
      ctx.error(
        item.typeSpan,
        'unknown-block',
        known ? `'${item.type}' belongs inside an agent "<id>" { … } block` : `unknown top-level block '${item.type}'`,
        known ? undefined : didYouMean(item.type, TOP_LEVEL_BLOCKS),
      );
      continue;
    }
    const spec = BLOCKS[item.type]!;
    // Agents check their own labels (pack agents are lowered the same way).
    const label = item.type === 'agent' ? item.labels[0]?.value : checkLabels(ctx, item, spec);
    const key = `${item.type}\u0000${label ?? ''}`;
    const first = seen.get(key);
    if (first && (!spec.repeatable || spec.labels !== 'none')) {
      const what = item.type === 'agent' ? `duplicate agent "${label}"` : `duplicate ${where(item)}`;
      ctx.error(
        item.labels[0]?.span ?? item.typeSpan,
        'duplicate-block',
        `${what}: first declared at line ${ctx.source.lineOf(first.span.start)}`,
      );
      continue;
    }
    seen.set(key, item);
    switch (item.type) {
      case 'runtime': {
        const rt = walkBody(ctx, item, spec, {});
        ir.runtime = Object.fromEntries(rt.values);
        unsupportedRuntime(ctx, rt.values, rt.nodes);
        break;
      }
      case 'provider':
        ir.providers.push(lowerTyped(ctx, item, label ?? '', PROVIDER_TYPES, PROVIDER_COMMON_FIELDS));
        break;
      case 'identity':
        ir.identities.push(lowerTyped(ctx, item, label ?? '', IDENTITY_TYPES, ['type']));
        break;
      case 'mcp_server':
        ir.mcp_servers.push(lowerMcpServer(ctx, item, label));
        break;
      case 'trust':
        walkBody(ctx, item, spec, { 'trust-entry': (e) => lowerTrustEntry(ctx, e, ir) });
        break;
      case 'agent':
        agentBlocks.push(item);
        break;
      case 'pack':
        lowerPack(ctx, item, label ?? '', ir, agentBlocks);
        break;
    }
  }
  const agentAt = new Map<string, BlockNode>();
  for (const block of agentBlocks) {
    const id = block.labels[0]?.value;
    const first = id === undefined ? undefined : agentAt.get(id);
    if (first) {
      ctx.error(
        block.labels[0]!.span,
        'duplicate-block',
        `duplicate agent "${id}": first declared at line ${ctx.source.lineOf(first.span.start)}`,
      );
      continue;
    }
    if (id !== undefined) agentAt.set(id, block);
    ir.agents.push(lowerAgent(ctx, block));
  }
  return ir;
}

function lowerPack(ctx: LowerContext, block: BlockNode, name: string, ir: PolicyIR, agentBlocks: BlockNode[]): void {
  const pushRule = (r: RuleNode) => {
    const rule = lowerRule(ctx, r, NO_SCOPE);
    if (rule) ir.rules.push(rule);
  };
  const fields = walkBody(ctx, block, BLOCKS.pack!, {
    rule: pushRule,
    block: (b) => {
      if (b.type === 'rules') {
        walkBody(ctx, b, BLOCKS.rules!, { rule: pushRule });
        return;
      }
      agentBlocks.push(b);
    },
  });
  const version = fields.values.get('version');
  ir.packs.push({ name, ...(typeof version === 'string' ? { version } : {}), ref: ctx.ref(block.span) });
}

/** Providers and identities: the field set depends on `type`. */
function lowerTyped(
  ctx: LowerContext,
  block: BlockNode,
  name: string,
  types: Readonly<Record<string, readonly string[]>>,
  common: readonly string[],
): ProviderIR {
  const f = walkBody(ctx, block, BLOCKS[block.type]!, {});
  const type = f.values.get('type');
  const typeNode = f.nodes.get('type')?.[0];
  const ref = ctx.ref(block.span);
  if (typeof type !== 'string') {
    if (!typeNode)
      ctx.error(block.typeSpan, 'missing-field', `${block.type} "${name}" needs a type, e.g. type = "${Object.keys(types)[0]}"`);
    return { name, type: '', fields: {}, ref };
  }
  // Own keys only: a type named `toString` or `constructor` is unknown, not an Object method.
  const allowed = Object.hasOwn(types, type) ? types[type] : undefined;
  if (!allowed) {
    ctx.error(
      typeNode!.value.span,
      'invalid-value',
      `unknown ${block.type} type '${type}'`,
      didYouMean(type, Object.keys(types)) ?? `known types: ${Object.keys(types).join(', ')}`,
    );
    return { name, type, fields: {}, ref };
  }
  const fields: Record<string, IRValue> = {};
  for (const [key, value] of f.values) {
    if (key === 'type') continue;
    if (!allowed.includes(key) && !common.includes(key)) {
      ctx.error(
        f.nodes.get(key)![0]!.nameSpan,
        'unknown-field',
        `${block.type} "${name}" (type ${type}): unknown field '${key}'`,
        didYouMean(key, [...allowed, ...common]),
      );
      continue;
    }
    fields[key] = value;
  }
  requiredOfType(ctx, block, name, type, f.values, f.nodes.get('type')![0]!.value.span);
  return { name, type, fields, ref };
}

/**
 * Shared state (postgres, a budget backend) is valid FPL this build does not run: a warning here
 * (check --strict fails), a refusal at apply, as for the other features limitations.md lists.
 */
function unsupportedRuntime(
  ctx: LowerContext,
  values: ReadonlyMap<string, IRValue>,
  nodes: ReadonlyMap<string, readonly AttributeNode[]>,
): void {
  const at = (key: string) => nodes.get(key)?.[0]?.value.span ?? nodes.get(key)?.[0]?.span;
  const pg = values.get('backend') === 'postgres' ? 'backend' : values.has('postgres_url') ? 'postgres_url' : undefined;
  const pgSpan = pg === undefined ? undefined : at(pg);
  if (pgSpan)
    ctx.warning(
      pgSpan,
      'unsupported',
      'runtime.backend = "postgres" is not available in this build (state and the log are local files): apply will refuse it',
      'remove backend and postgres_url, or write backend = "sqlite", the local default',
    );
  const bbSpan = at('budget_backend');
  if (bbSpan)
    ctx.warning(
      bbSpan,
      'unsupported',
      'runtime.budget_backend is not available in this build (each daemon enforces its budgets itself): apply will refuse it',
      'remove budget_backend',
    );
}

/** What a provider or identity of a type cannot work without: caught by check, not by the daemon halting. */
function requiredOfType(
  ctx: LowerContext,
  block: BlockNode,
  name: string,
  type: string,
  values: ReadonlyMap<string, IRValue>,
  typeSpan: { start: number; end: number },
): void {
  const where = `${block.type} "${name}"`;
  if (block.type === 'provider' && type === 'kms') {
    const backend = values.get('backend');
    // (A backend from env() is known only where the daemon runs.)
    if (backend === undefined)
      ctx.error(block.typeSpan, 'missing-field', `${where} (type kms) needs backend = one of ${KMS_BACKENDS.join(', ')}`);
    else if (typeof backend === 'string' && !KMS_BACKENDS.includes(backend))
      ctx.error(
        typeSpan,
        'invalid-value',
        `${where}: backend '${backend}' is not one of ${KMS_BACKENDS.join(', ')}`,
        didYouMean(backend, KMS_BACKENDS),
      );
  }
  // Valid FPL the daemon cannot run: a warning here (check --strict fails), a refusal at apply.
  if (block.type === 'provider' && type === 'cost-http')
    ctx.warning(
      typeSpan,
      'unsupported',
      `${where}: cost-http is not available in this build: apply will refuse it`,
      'a call\'s cost comes from its cost_usd, its model usage at bundled prices, or a cost "<tool>": $… declaration',
    );
  if (block.type === 'provider' && type === 'pkcs11')
    ctx.warning(
      typeSpan,
      'unsupported',
      `${where}: pkcs11 signing is not available in this build: apply will refuse it`,
      'use aws-kms, gcp-kms, azure-key-vault or vault-transit',
    );
  const issuer = values.get('issuer');
  if (
    block.type === 'identity' &&
    type === 'oidc' &&
    !values.has('jwks_url') &&
    !values.has('jwks_file') &&
    typeof issuer === 'string' &&
    !fetchableKeyUrl(issuer)
  )
    ctx.warning(
      block.typeSpan,
      'missing-field',
      `${where} (type oidc) has no jwks_url or jwks_file, and its issuer is not an https:// URL to discover them from: apply will refuse it`,
    );
  if (block.type === 'identity' && type === 'oidc' && (!values.has('issuer') || (!values.has('audience') && !values.has('client_id'))))
    ctx.warning(
      block.typeSpan,
      'missing-field',
      `${where} (type oidc) needs issuer and audience (or client_id): apply will refuse it, as tokens the IdP issued to other applications would pass`,
    );
}

function lowerTrustEntry(ctx: LowerContext, e: TrustEntryNode, ir: PolicyIR): void {
  const ref = ctx.ref(e.span);
  if (e.keyword === 'key') {
    if (!e.subject) {
      ctx.error(e.keywordSpan, 'invalid-trust-key', 'trust key needs the registry it vouches for: key "<registry>" ed25519:<base64>');
      return;
    }
    const m = /^(?:ed25519:(\S+)|=\s*"([^"]*)")$/.exec(e.rest.text);
    const b64 = m?.[1] ?? m?.[2];
    const bytes = b64 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : undefined;
    if (!bytes || bytes.length !== 32) {
      ctx.error(
        e.rest.text ? e.rest.span : e.keywordSpan,
        'invalid-trust-key',
        `trust key for "${e.subject.value}" must be an ed25519 public key: ed25519:<base64 of 32 bytes>`,
      );
      return;
    }
    ir.trust.keys.push({ registry: e.subject.value, algorithm: 'ed25519', public_key_b64: bytes.toString('base64'), ref });
    return;
  }
  if (e.keyword === 'spiffe_federated') {
    ir.trust.entries.push({ keyword: e.keyword, ...(e.subject ? { subject: e.subject.value } : {}), value: e.rest.text, ref });
    ctx.warning(
      e.keywordSpan,
      'unsupported',
      'trust spiffe_federated: federated SPIFFE trust domains are not available in this build: apply will refuse it',
      "agents attest in the stack's own trust domain",
    );
    return;
  }
  ctx.error(
    e.keywordSpan,
    'unknown-field',
    `trust: unknown entry '${e.keyword}'`,
    didYouMean(e.keyword, ['key', 'spiffe_federated']) ??
      'trust entries are key "<registry>" ed25519:<base64> or spiffe_federated "<trust domain>" bundle_url = "…"',
  );
}

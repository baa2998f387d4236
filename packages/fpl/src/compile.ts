import { checkConstantConditions } from './analysis/constant-condition.js';
import { checkCredentials } from './analysis/credentials.js';
import { checkDelegationScopes } from './analysis/delegation.js';
import { checkMcpToolNames } from './analysis/mcp-names.js';
import { checkPrincipalClaims } from './analysis/principal-claims.js';
import { checkRuleOrder } from './analysis/reachability.js';
import { parseJsonPolicy, parseYamlPolicy } from './forms/index.js';
import { collectTrustKeys, parseImportRef, resolveImports, type ResolvedImport, type ResolveOptions } from './imports/index.js';
import type { ImportIR, PolicyIR } from './ir.js';
import { LowerContext, type Locations, type LowerOptions } from './lower/context.js';
import { lowerFile } from './lower/file.js';
import { lowerRule } from './lower/rules.js';
import { mergeImported, mergeRules } from './merge.js';
import type { BodyItem, FileNode, RuleNode, TopItem } from './syntax/ast.js';
import { Diagnostics } from './syntax/diagnostics.js';
import { parse } from './syntax/parser.js';
import { policyVersion } from './version.js';
import type { Source } from './syntax/source.js';

export interface CompileOptions extends LowerOptions {
  /** The stack directory: where `.faramesh/import-cache/` lives. */
  stackDir?: string;
  /** A local registry mirror (`FARAMESH_REGISTRY_ROOT`). */
  registryRoot?: string;
  /** Resolve imports from the cache only. */
  offline?: boolean;
  /** Imports a remote registry served (see `ResolveOptions.fetched`). */
  fetched?: ResolveOptions['fetched'];
  /** Pinned digests (see `ResolveOptions.locked`). */
  locked?: ResolveOptions['locked'];
  /**
   * Do not resolve imports at all: for reading the root policy's own settings (`runtime`, which an
   * import can only hint at), where an unreachable or refused import must not hide them.
   */
  skipImports?: boolean;
}

export interface CompileResult {
  file: FileNode;
  diagnostics: Diagnostics;
  /** Present when there were no errors. */
  ir?: PolicyIR;
  /** SHA-256 of the canonical IR, hex: identifies the compiled policy. */
  policyVersion?: string;
  imports: ResolvedImport[];
}

/** Parse a policy in whichever form its file name says: `.fms`, `.fms.yaml`/`.yml`, `.fms.json`. */
export function parseAny(source: Source, diagnostics = new Diagnostics()): FileNode {
  if (/\.ya?ml$/i.test(source.name)) return parseYamlPolicy(source, diagnostics).file;
  if (/\.json$/i.test(source.name)) return parseJsonPolicy(source, diagnostics).file;
  return parse(source, diagnostics).file;
}

/** check + compile: every diagnostic of the policy and, when it is valid, its IR and version. */
export function compile(source: Source, options: CompileOptions = {}): CompileResult {
  const diagnostics = new Diagnostics();
  const file = parseAny(source, diagnostics);
  const locations: Locations = new WeakMap();
  const ctx = new LowerContext(locations, source, diagnostics, options);
  const ir = lowerFile(ctx, file);

  const imports =
    !options.skipImports && file.items.some((i) => i.kind === 'Import')
      ? resolveImports(file, diagnostics, {
          stackDir: options.stackDir ?? '.',
          ...(options.registryRoot ? { registryRoot: options.registryRoot } : {}),
          offline: !!options.offline,
          ...(options.fetched ? { fetched: options.fetched } : {}),
          ...(options.locked ? { locked: options.locked } : {}),
          // Malformed trust lines were already reported by the lowering above.
          trust: collectTrustKeys(file, new Diagnostics()),
        })
      : [];
  ir.imports = file.items.flatMap((item): ImportIR[] => {
    if (item.kind !== 'Import') return [];
    const ref = parseImportRef(item.path.value).ref;
    const resolved = imports.find((r) => r.node === item);
    return ref
      ? [
          {
            path: item.path.value,
            ...(item.alias ? { alias: item.alias.value } : {}),
            kind: ref.kind,
            version: ref.version,
            ...(resolved ? { sha256: resolved.sha256, key_id: resolved.keyId } : {}),
            ref: ctx.ref(item.span),
          },
        ]
      : [];
  });
  for (const resolved of flatten(imports)) {
    if (!resolved.file) continue;
    const importCtx = new LowerContext(locations, resolved.file.source, diagnostics, options, resolved.ref.raw);
    const usedByAlias = !!resolved.alias && ir.agents.some((a) => a.uses.some((u) => u.alias === resolved.alias));
    mergeImported(
      ir,
      lowerFile(importCtx, resolved.file),
      (what) => {
        if (what.startsWith('its top-level rules') && usedByAlias) return;
        diagnostics.warning(
          source,
          resolved.node.path.span,
          'import-ignored',
          `${resolved.ref.raw}: ${what} from an import is ignored`,
          what.startsWith('runtime.') ? 'set it in the local runtime block if you want it' : undefined,
        );
      },
      (id) =>
        diagnostics.warning(
          source,
          resolved.node.path.span,
          'import-adds-agent',
          `${resolved.ref.raw} declares agent "${id}", which the local policy does not: its rules, not the local top-level rules, decide that agent's calls`,
          `declare agent "${id}" locally to see and own its posture (an import never sets a local agent's default)`,
        ),
    );
  }
  applyUses(ctx, ir, imports);
  checkRuleOrder(ir, diagnostics, locations);
  checkCredentials(ir, diagnostics, locations);
  checkDelegationScopes(ir, diagnostics, locations);
  checkMcpToolNames(ir, diagnostics, locations);
  checkConstantConditions(ir, diagnostics, locations);
  checkPrincipalClaims(ir, diagnostics, locations);

  if (diagnostics.errorCount > 0) return { file, diagnostics, imports };
  return { file, diagnostics, ir, policyVersion: policyVersion(ir), imports };
}

/** A pack's shareable rules: top-level rules, and the rules of `pack { … }` blocks (bare or in `rules { }`). */
function packRules(items: readonly (TopItem | BodyItem)[]): RuleNode[] {
  return items.flatMap((item): RuleNode[] => {
    if (item.kind === 'Rule') return [item];
    if (item.kind === 'Block' && (item.type === 'pack' || item.type === 'rules')) return packRules(item.body);
    return [];
  });
}

/** Imports depth-first, each once. */
function flatten(imports: ResolvedImport[], seen = new Set<string>()): ResolvedImport[] {
  const out: ResolvedImport[] = [];
  for (const r of imports) {
    if (seen.has(r.ref.raw)) continue;
    seen.add(r.ref.raw);
    out.push(r, ...flatten(r.imports, seen));
  }
  return out;
}

/**
 * `use <alias> { params }` in an agent: the aliased pack's top-level rules are appended to the
 * agent's rules, with the params visible to their conditions as vars.
 */
function applyUses(ctx: LowerContext, ir: PolicyIR, imports: ResolvedImport[]): void {
  const byAlias = new Map(imports.filter((r) => r.alias).map((r) => [r.alias!, r]));
  const declared = new Set(ir.imports.flatMap((i) => (i.alias ? [i.alias] : [])));
  for (const agent of ir.agents) {
    for (const use of agent.uses) {
      const pack = byAlias.get(use.alias);
      if (!pack && declared.has(use.alias)) continue; // its import failed and was reported
      if (!pack) {
        const at = ctx.locations.get(use)!;
        ctx.diagnostics.error(
          at.source,
          at.span,
          'unknown-alias',
          `use ${use.alias}: no import is aliased '${use.alias}'`,
          `import "…" as ${use.alias}`,
        );
        continue;
      }
      if (!pack.file) continue;
      const packCtx = new LowerContext(ctx.locations, pack.file.source, ctx.diagnostics, ctx.options, pack.ref.raw);
      const used = new Set<string>();
      const scope = { vars: new Map(Object.entries(use.params)), selectors: new Set<string>(), used };
      // As for merged imports: the pack's deny! goes before the agent's own rules, so a local permit
      // cannot override it; its other rules come after them.
      agent.rules = mergeRules(
        agent.rules,
        packRules(pack.file.items).flatMap((node) => lowerRule(packCtx, node, scope) ?? []),
      );
      const at = ctx.locations.get(use)!;
      for (const param of Object.keys(use.params)) {
        if (!used.has(param))
          ctx.diagnostics.warning(
            at.source,
            at.span,
            'unused-param',
            `use ${use.alias}: parameter '${param}' is not used by the pack's rules`,
          );
      }
    }
  }
}

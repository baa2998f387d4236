import { diagnosticToJson, type CompileResult, type PolicyIR } from '@faramesh/fpl';
import { makeOut, plural } from '../output.js';
import { renderDiagnostic } from '../diagnostics.js';
import { compileStack, StackError } from '../stack-compile.js';

export interface CheckOptions {
  dir: string;
  strict?: boolean;
  offline?: boolean;
  /** An offline bundle to install into the import cache first. */
  bundle?: string;
  /** Every import must already be in governance.fms.lock; nothing is recorded. */
  locked?: boolean;
  strictEnv?: boolean;
  format?: 'text' | 'json';
  noColor?: boolean;
}

/** Import problems that are mistakes in the policy text (exit 1), not an unreachable or badly signed artifact (exit 2). */
const IMPORT_SYNTAX = new Set(['import-invalid-ref', 'import-unpinned']);

/** Exit codes of cli/check.md: 0 valid, 1 syntax/schema, 2 import unreachable or signature failure, 3 warnings under --strict. */
export function exitCodeOf(result: CompileResult, strict: boolean): number {
  const errors = result.diagnostics.items.filter((d) => d.severity === 'error');
  if (errors.some((d) => !d.code.startsWith('import-') || IMPORT_SYNTAX.has(d.code))) return 1;
  if (errors.length > 0) return 2;
  if (strict && result.diagnostics.warningCount > 0) return 3;
  return 0;
}

export async function check(opts: CheckOptions): Promise<number> {
  const out = makeOut(opts.noColor);
  if (opts.bundle) {
    const { useBundle } = await import('./bundle/index.js');
    const failed = await useBundle(opts.dir, opts.bundle, out);
    if (failed !== undefined) return failed;
  }
  let compiled: Awaited<ReturnType<typeof compileStack>>;
  try {
    compiled = await compileStack(opts.dir, { ...opts, recordLock: !opts.locked });
  } catch (e) {
    // No policy, or a malformed lock: a script reading stdout (`check --format json > check.json`)
    // still gets an answer, as `test` and `plan` give one. The message goes to stderr as before.
    if (!(e instanceof StackError) || opts.format !== 'json') throw e;
    out.error(out.fail(e.message));
    out.print(JSON.stringify({ valid: false, exit_code: 1, error: e.message, diagnostics: [] }, null, 2));
    return 1;
  }
  const { stack, result } = compiled;
  let code = exitCodeOf(result, !!opts.strict);
  const diagnostics = result.diagnostics.sorted();
  const routes = code === 0 && result.ir ? await reverseProxyRoutes(result.ir, stack.dir) : undefined;
  if (routes?.error) code = 1;
  else if (opts.strict && routes?.warnings.length) code = 3;
  if (opts.format === 'json') {
    out.print(
      JSON.stringify(
        {
          valid: code === 0,
          file: stack.source.name,
          exit_code: code,
          errors: result.diagnostics.errorCount,
          warnings: result.diagnostics.warningCount,
          ...(result.policyVersion ? { policy_version: result.policyVersion } : {}),
          diagnostics: diagnostics.map(diagnosticToJson),
          ...(routes ? { http_routes: routes } : {}),
        },
        null,
        2,
      ),
    );
    return code;
  }
  for (const d of diagnostics) out.error(renderDiagnostic(d, out.color) + '\n');
  if (result.ir) {
    if (result.ir.imports.length > 0) out.done(`imports resolved (${result.ir.imports.length})`);
    if (result.ir.providers.length > 0) out.done(`providers declared (${result.ir.providers.map((p) => p.name).join(', ')})`);
    if (result.ir.trust.keys.length > 0) out.done(`trust roots loaded (${result.ir.trust.keys.length})`);
  }
  for (const w of routes?.warnings ?? []) out.error(`! ${w}`);
  if (routes?.error) out.error(out.fail(routes.error));
  else if (routes) out.done(`reverse proxy routes (${routes.routes})`);
  const counts = [
    result.diagnostics.errorCount && plural(result.diagnostics.errorCount, 'error'),
    result.diagnostics.warningCount && plural(result.diagnostics.warningCount, 'warning'),
  ]
    .filter(Boolean)
    .join(', ');
  if (code === 0) out.done(`${stack.source.name} valid${counts ? ` (${counts})` : ''}`);
  else out.error(out.fail(`${stack.source.name}: ${counts || 'not servable'}${code === 3 ? ' (--strict)' : ''}`));
  return code;
}

/**
 * The reverse proxy's routes as apply will build them (the OpenAPI document read and checked), when
 * the policy declares routes; the daemon package loads only then.
 */
async function reverseProxyRoutes(
  ir: PolicyIR,
  stackDir: string,
): Promise<{ routes: number; warnings: string[]; error?: string } | undefined> {
  if (ir.runtime.http_openapi === undefined && ir.runtime.http_routes === undefined) return undefined;
  const { buildHttpRoutes, unnamed } = await import('@faramesh/daemon');
  try {
    const built = await buildHttpRoutes(ir, stackDir);
    return { routes: built.routes.filter((r) => !unnamed(r)).length, warnings: built.warnings };
  } catch (e) {
    return { routes: 0, warnings: [], error: (e as Error).message };
  }
}

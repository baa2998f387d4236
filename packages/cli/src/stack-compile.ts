import {
  checkEmptyPolicy,
  compile,
  loadStack,
  parseAny,
  refKey,
  StackError,
  type CompileResult,
  type FetchedImport,
  type ResolvedImport,
  type Source,
  type Stack,
} from '@faramesh/fpl';
import { fetchImports } from './registry/fetch-imports.js';
import { lockOf, readLock, updateLock, type LockEntry } from './registry/lock.js';

export interface StackCompile {
  stack: Stack;
  result: CompileResult;
}

/**
 * Load and compile the stack in `dir` with the environment's settings; throws StackError when there
 * is no policy (or its lock is malformed). Imports the cache lacks are fetched from their registry
 * first, unless `offline`; every import must have the digest `governance.fms.lock` pins, and with
 * `recordLock` a successful resolution records the digests of new imports there.
 */
export async function compileStack(dir: string, opts: CompileStackOptions = {}): Promise<StackCompile> {
  const stack = loadStack(dir);
  // A policy without imports never reads the lock: a stray one (an agent's, say) changes nothing.
  // Decided on the parsed policy, not its text: a YAML or JSON key may spell `import` with escapes.
  const file = parseAny(stack.source);
  const imports = file.items.some((item) => item.kind === 'Import');
  const locked = imports ? readLock(dir) : undefined;
  const fetched = opts.offline || !imports ? undefined : await fetchImports(file, dir, process.env, undefined, locked);
  const compiled = compileLoaded(stack, opts, fetched, locked);
  if (opts.locked && compiled.result.ir) {
    if (requireLocked(stack, compiled.result, locked)) return compiled;
  }
  if (opts.recordLock && compiled.result.ir) {
    const failed = updateLock(dir, locked, lockOf(compiled.result.imports));
    if (failed) process.stderr.write(`! governance.fms.lock not written (${failed}): the imports' digests are not pinned yet\n`);
  }
  return compiled;
}

/**
 * The root policy alone, imports not resolved: its own settings (`runtime { wal_dir }`) for the audit
 * commands, which must find the log even when an import is unreachable or the lock refuses one.
 */
export function compileSettings(dir: string): StackCompile {
  return compileLoaded(loadStack(dir), { skipImports: true });
}

export interface CompileStackOptions {
  offline?: boolean;
  strictEnv?: boolean;
  /** See fpl's `CompileOptions.skipImports`. */
  skipImports?: boolean;
  /** `--locked`: every import must already be in `governance.fms.lock`; nothing is recorded (CI, deploys). */
  locked?: boolean;
  /**
   * Write `governance.fms.lock` when the imports resolved add to it or drop from it: what check,
   * compile, apply, dev and bundle do. Read-only commands (plan, test, explain) only obey it.
   */
  recordLock?: boolean;
}

/**
 * Report each resolved import the lock does not list, at its import line, as an error (exit 2);
 * the policy is then not servable. Returns whether any was missing.
 */
function requireLocked(stack: Stack, result: CompileResult, locked: Map<string, LockEntry> | undefined): boolean {
  let missing = false;
  const walk = (imports: readonly ResolvedImport[], source: Source) => {
    for (const imp of imports) {
      if (!locked?.has(refKey(imp.ref))) {
        missing = true;
        result.diagnostics.error(
          source,
          imp.node.path.span,
          'import-unlocked',
          `${imp.ref.raw} is not in governance.fms.lock, and --locked records nothing`,
          'run faramesh check without --locked to record it, review the change to governance.fms.lock, and commit it',
        );
      }
      if (imp.file) walk(imp.imports, imp.file.source);
    }
  };
  walk(result.imports, stack.source);
  if (missing) {
    delete result.ir;
    delete result.policyVersion;
  }
  return missing;
}

function compileLoaded(
  stack: Stack,
  opts: CompileStackOptions,
  fetched?: Map<string, FetchedImport>,
  locked?: Map<string, LockEntry>,
): StackCompile {
  const dir = stack.dir;
  const result = compile(stack.source, {
    stackDir: dir,
    env: process.env,
    ...(process.env.FARAMESH_REGISTRY_ROOT ? { registryRoot: process.env.FARAMESH_REGISTRY_ROOT } : {}),
    ...(fetched ? { fetched } : {}),
    ...(locked ? { locked: new Map([...locked].map(([k, e]) => [k, e.sha256])) } : {}),
    offline: !!opts.offline,
    strictEnv: !!opts.strictEnv,
    skipImports: !!opts.skipImports,
  });
  if (stack.invalidUtf8At !== undefined) {
    const at = stack.source.text.indexOf('\uFFFD');
    result.diagnostics.error(
      stack.source,
      { start: Math.max(0, at), end: Math.max(0, at) + 1 },
      'invalid-utf8',
      `the file is not valid UTF-8 (first bad byte at offset ${stack.invalidUtf8At})`,
    );
    delete result.ir;
    delete result.policyVersion;
  }
  // Said by the commands an operator runs, not by every compile (the test suites compile fragments).
  if (result.ir) checkEmptyPolicy(result.ir, stack.source, result.diagnostics);
  return { stack, result };
}

export { StackError };

import { compile, loadStack, parseAny, StackError, type CompileResult, type FetchedImport, type Stack } from '@faramesh/fpl';
import { fetchImports } from './registry/fetch-imports.js';

export interface StackCompile {
  stack: Stack;
  result: CompileResult;
}

/**
 * Load and compile the stack in `dir` with the environment's settings; throws StackError when there
 * is no policy. Imports the cache lacks are fetched from their registry first, unless `offline`.
 */
export async function compileStack(dir: string, opts: CompileStackOptions = {}): Promise<StackCompile> {
  const stack = loadStack(dir);
  const fetched = opts.offline || !/\bimports?\b/.test(stack.source.text) ? undefined : await fetchImports(parseAny(stack.source), dir);
  return compileLoaded(stack, opts, fetched);
}

/** The same without the network: imports come from the cache (or a local clone) only. */
export function compileCached(dir: string, opts: CompileStackOptions = {}): StackCompile {
  return compileLoaded(loadStack(dir), opts);
}

export interface CompileStackOptions {
  offline?: boolean;
  strictEnv?: boolean;
}

function compileLoaded(stack: Stack, opts: CompileStackOptions, fetched?: Map<string, FetchedImport>): StackCompile {
  const dir = stack.dir;
  const result = compile(stack.source, {
    stackDir: dir,
    env: process.env,
    ...(process.env.FARAMESH_REGISTRY_ROOT ? { registryRoot: process.env.FARAMESH_REGISTRY_ROOT } : {}),
    ...(fetched ? { fetched } : {}),
    offline: !!opts.offline,
    strictEnv: !!opts.strictEnv,
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
  return { stack, result };
}

export { StackError };

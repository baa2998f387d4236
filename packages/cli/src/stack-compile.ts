import { compile, loadStack, StackError, type CompileResult, type Stack } from '@faramesh/fpl';

export interface StackCompile {
  stack: Stack;
  result: CompileResult;
}

/** Load and compile the stack in `dir` with the environment's settings; throws StackError when there is no policy. */
export function compileStack(dir: string, opts: { offline?: boolean; strictEnv?: boolean } = {}): StackCompile {
  const stack = loadStack(dir);
  const result = compile(stack.source, {
    stackDir: dir,
    env: process.env,
    ...(process.env.FARAMESH_REGISTRY_ROOT ? { registryRoot: process.env.FARAMESH_REGISTRY_ROOT } : {}),
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

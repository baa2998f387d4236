/**
 * What apply and dev share before a daemon runs: check and compile governance.fms, read its runtime
 * settings, then sign the compiled policy into `.faramesh/` with the agent's artifacts beside it.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { keysDir, loadStackSigner, originFor, writeDurable } from '@faramesh/audit';
import type { PolicyIR } from '@faramesh/fpl';
import {
  Alerts,
  buildHttpRoutes,
  checkSinks,
  commandArgv,
  compiledPolicy,
  notifyTargets,
  PrincipalGate,
  withKeySetDigests,
  reverseConfig,
  runtimeSettings,
  StackCa,
  writeCompiled,
  type CompiledPolicy,
  type RuntimeSettings,
  type StackPaths,
  unsupportedFeature,
} from '@faramesh/daemon';
import type { Out } from '../../output.js';
import { renderDiagnostic } from '../../diagnostics.js';
import { compileStack, type CompileStackOptions } from '../../stack-compile.js';
import { exitCodeOf } from '../check.js';
import { agentArtifacts, strippedEnv, writeArtifacts, type AgentArtifacts } from './artifacts.js';

export interface CompiledStack {
  /** The policy file's name (governance.fms). */
  name: string;
  /** Its path. */
  source: string;
  ir: PolicyIR;
  settings: RuntimeSettings;
  compiled: CompiledPolicy;
}

/** Why each notify target of a policy cannot be reached from a daemon with `env`. */
export const alertProblems = (ir: PolicyIR, env: NodeJS.ProcessEnv): string[] => Alerts.problems(notifyTargets(ir), env);

/** The alerts a policy names that cannot be delivered, as apply warns of them. */
export function warnUndeliverable(out: Out, problems: readonly string[]): void {
  for (const problem of problems) out.error(`! alert not deliverable: ${problem}`);
}

/**
 * Check and compile; prints diagnostics and returns the exit code when the stack cannot run.
 * `refusal` says what the failure means for the caller.
 */
export async function compileForDaemon(
  paths: StackPaths,
  out: Out,
  refusal = 'nothing was applied (a running daemon keeps its policy)',
  opts: CompileStackOptions & { dev?: boolean; checkAlerts?: boolean } = {},
): Promise<CompiledStack | number> {
  const { stack, result } = await compileStack(paths.stackDir, opts);
  const code = exitCodeOf(result, false);
  const name = basename(stack.path);
  if (code !== 0 || !result.ir) {
    for (const d of result.diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
    out.error(out.fail(`${name} has errors: ${refusal}`));
    return code || 1;
  }
  out.done(`${name} valid`);
  // What check would warn about is said here too: apply is the step every operator runs.
  for (const d of result.diagnostics.sorted()) if (d.severity === 'warning') out.error(renderDiagnostic(d, out.color) + '\n');
  // faramesh dev contacts no provider and sends no alert: their settings need not be there yet.
  if (!opts.dev && opts.checkAlerts !== false) warnUndeliverable(out, alertProblems(result.ir, process.env));
  let settings: RuntimeSettings;
  let ir = result.ir;
  try {
    // What check warned this build cannot honour: a stack relying on it would believe it held.
    const unsupported = unsupportedFeature(result.ir);
    if (unsupported) throw new Error(unsupported);
    settings = runtimeSettings(result.ir.runtime, paths.stackDir, process.env);
    if (result.ir.runtime.http_upstream !== undefined && !settings.http)
      throw new Error('runtime.http_upstream is served on runtime.http_listen: set it (e.g. "127.0.0.1:8443")');
    // The reverse proxy's routes are read now and signed with the policy: the daemon never reads the OpenAPI file.
    const routes = await buildHttpRoutes(result.ir, paths.stackDir);
    for (const w of routes.warnings) out.error(`! ${w}`);
    if (routes.routes.length > 0) ir = { ...result.ir, http_routes: routes.routes };
    reverseConfig(ir, process.env);
    // Key set files are signed with the policy by their digest: one changed later is a change to apply.
    if (ir.identities.length > 0) ir = { ...ir, identities: withKeySetDigests(ir.identities, paths.stackDir, process.env) };
    // Identity providers the daemon could not load would halt it: refuse here, before anything changes.
    new PrincipalGate(ir.identities, paths.stackDir, process.env, false);
    // And so would sinks it cannot configure.
    if (!opts.dev) checkSinks(result.ir.providers, process.env);
    // The launcher's list of variables to strip must be names, not shell.
    strippedEnv(result.ir);
    // The supervisor runs its command without a shell: shell syntax in it is refused now.
    if (typeof result.ir.runtime.supervised_command === 'string') commandArgv(result.ir.runtime.supervised_command);
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  return { name, source: stack.path, ir, settings, compiled: compiledPolicy(ir, readFileSync(stack.path), name) };
}

/**
 * Sign the compiled policy with the stack's key into `.faramesh/`, and write the agent's artifacts.
 * `dev`: signed as `faramesh dev`'s, which no other daemon loads.
 */
export async function writeStack(paths: StackPaths, c: CompiledStack, dev = false): Promise<string | undefined> {
  return writeArtifacts(await writePolicy(paths, c, dev));
}

/**
 * The signed compiled policy (and the inspection CA it may need) written; the agents' files made and
 * checked, not written: apply writes those once a running daemon has taken the policy.
 */
export async function writePolicy(paths: StackPaths, c: CompiledStack, dev = false): Promise<AgentArtifacts> {
  await writeCompiled(paths, c.compiled, loadStackSigner(paths.stackDir, originFor(basename(paths.stackDir))), dev);
  // TLS inspection: the CA exists before the sandbox plan that shows it to agents is made.
  if (c.ir.runtime.https_inspection === true) await StackCa.load(keysDir(paths.stackDir), paths.mirrors);
  return agentArtifacts(paths, c.settings, c.ir, c.source);
}

/** The files writeStack rewrites (but for the kept versions), as they are now; the function puts them back (or removes those that were absent). */
export function keepCopies(paths: StackPaths): () => void {
  const kept = [paths.compiled, paths.signature, paths.agentEnv, paths.cliPath, paths.launcher, paths.sandboxPlan].map((file) => ({
    file,
    bytes: existsSync(file) ? readFileSync(file) : undefined,
    mode: existsSync(file) ? statSync(file).mode & 0o7777 : 0,
  }));
  return () => {
    for (const k of kept) {
      if (k.bytes === undefined) rmSync(k.file, { force: true });
      else writeDurable(dirname(k.file), basename(k.file), k.bytes, k.mode);
    }
  };
}

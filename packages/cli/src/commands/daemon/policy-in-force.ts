/**
 * The policy a stack enforces, as the CLI reads it without changing anything: the running daemon's
 * version, else the one apply last signed into `.faramesh/`. Every copy is checked against the
 * stack's pinned key before it is believed, and earlier versions come from `.faramesh/versions/`.
 */
import { existsSync } from 'node:fs';
import { publicKeyFile, readVerifierKeys, type Verifier } from '@faramesh/audit';
import type { PolicyIR } from '@faramesh/fpl';
import { loadCompiled, versionFiles, type CompiledPolicy, type StackPaths } from '@faramesh/daemon';
import type { Out } from '../../output.js';
import { daemonStatus, StackAccessError } from './running.js';

export interface PolicyInForce {
  policy_version: string;
  /** `running` (the daemon enforces it) or `applied` (signed by the last apply; no daemon runs). */
  source: 'running' | 'applied';
  ir: PolicyIR;
}

export function stackVerifiers(paths: StackPaths): Verifier[] {
  const keyFile = publicKeyFile(paths.stackDir);
  return existsSync(keyFile) ? readVerifierKeys(keyFile) : [];
}

/** Undefined when nothing was ever applied; throws when the copy does not verify. */
export async function policyInForce(paths: StackPaths): Promise<PolicyInForce | undefined> {
  const running = await daemonStatus(paths).catch((e: unknown) => {
    // This user cannot see the stack's runtime files: whether a policy was applied is unknown, not "none".
    if (e instanceof StackAccessError) throw e;
    return undefined;
  });
  if (running?.dev && running.policy_version) {
    // A running faramesh dev enforces the policy it signed into .faramesh/ as dev's (it keeps no
    // copy by version): that one, and only while dev runs it, is the policy in force.
    const compiled = loadCompiled(paths.compiled, paths.signature, stackVerifiers(paths), true);
    if (compiled.policy_version !== running.policy_version)
      throw new Error(
        `the faramesh dev daemon enforces ${running.policy_version.slice(0, 16)}, but .faramesh/ holds ${compiled.policy_version.slice(0, 16)}`,
      );
    return { policy_version: compiled.policy_version, source: 'running', ir: compiled.ir };
  }
  const version = running?.policy_version && !running.dev ? running.policy_version : undefined;
  let compiled: CompiledPolicy;
  if (version) compiled = appliedVersion(paths, version);
  else if (existsSync(paths.compiled)) compiled = loadCompiled(paths.compiled, paths.signature, stackVerifiers(paths));
  else return undefined;
  return { policy_version: compiled.policy_version, source: version ? 'running' : 'applied', ir: compiled.ir };
}

/** An applied version's signed copy; throws when it is missing or does not verify. */
export function appliedVersion(paths: StackPaths, version: string, verifiers = stackVerifiers(paths)): CompiledPolicy {
  const [file, sig] = versionFiles(paths, version);
  return loadCompiled(file, sig, verifiers);
}

/**
 * The signed policy a recorded decision names, for explaining it: apply's copy by version, else the
 * one a `faramesh dev` daemon signed into `.faramesh/` (dev keeps no copy by version, so a policy
 * only ever tried in dev has no other). A version is the hash of the IR, so a copy that verifies
 * under the stack key and carries it is that policy, whoever signed it. Throws apply's error when
 * neither copy has the version.
 */
export function decidingPolicy(paths: StackPaths, version: string, verifiers = stackVerifiers(paths)): CompiledPolicy {
  try {
    return appliedVersion(paths, version, verifiers);
  } catch (e) {
    let dev: CompiledPolicy | undefined;
    try {
      dev = loadCompiled(paths.compiled, paths.signature, verifiers, true);
    } catch {
      // No current copy that verifies either: apply's error says what is missing.
    }
    if (dev?.policy_version === version) return dev;
    throw e;
  }
}

/** The policy in force, or undefined after saying why there is none to read. */
export async function requirePolicyInForce(paths: StackPaths, out: Out): Promise<PolicyInForce | undefined> {
  try {
    const inForce = await policyInForce(paths);
    if (!inForce) out.error(out.fail('no policy has been applied in this stack (faramesh apply)'));
    return inForce;
  } catch (e) {
    out.error(out.fail(`the policy in force could not be read: ${(e as Error).message}`));
    return undefined;
  }
}

/**
 * The compiled policy as apply leaves it for the daemon: canonical JSON of the IR with its version
 * and source hash, and beside it a signed note (the stack key) over the file's SHA-256. The daemon
 * loads only this pair and refuses it when the signature, the hash or the version does not check
 * out, so editing the compiled state, or swapping in another, is caught at load.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openNote, signNote, writeDurable, type Signer, type Verifier } from '@faramesh/audit';
import { policyVersion, type PolicyIR } from '@faramesh/fpl/runtime';
import { canonicalJson } from '@faramesh/protocol';
import type { StackPaths } from './paths.js';

export const COMPILED_FORMAT = 'faramesh-compiled/1';

export interface CompiledPolicy {
  format: typeof COMPILED_FORMAT;
  policy_version: string;
  /** SHA-256 (hex) of the policy source bytes as applied. */
  source_hash: string;
  /** The source file's name (governance.fms, or its YAML/JSON form). */
  source: string;
  ir: PolicyIR;
}

export class CompiledStateError extends Error {
  override name = 'CompiledStateError';
}

const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');
const NOTE_TITLE = 'faramesh compiled policy';
/**
 * `faramesh dev` signs what it compiles under another title. Dev puts back what apply left when it
 * stops; if it is killed first, its policy is still there, and only a dev daemon will load it.
 */
const DEV_NOTE_TITLE = 'faramesh dev compiled policy';

export function compiledPolicy(ir: PolicyIR, sourceBytes: Buffer, source: string): CompiledPolicy {
  return { format: COMPILED_FORMAT, policy_version: policyVersion(ir), source_hash: sha256(sourceBytes), source, ir };
}

/** Sign and write the compiled policy as the current one, and (but for dev's) keep a copy by version for rollback. */
export async function writeCompiled(paths: StackPaths, compiled: CompiledPolicy, signer: Signer, dev = false): Promise<void> {
  const bytes = canonicalJson(compiled);
  const note = await signNote(`${dev ? DEV_NOTE_TITLE : NOTE_TITLE}\n${compiled.policy_version}\n${sha256(bytes)}\n`, [signer]);
  // Dev keeps no copy by version: its title would replace the signed copy of a version apply applied,
  // which rollback, explain and plan read (and refuse as dev's).
  if (!dev) mkdirSync(paths.versions, { recursive: true, mode: 0o700 });
  const targets: [string, string][] = dev ? [] : [versionFiles(paths, compiled.policy_version)];
  for (const [file, sig] of [...targets, [paths.compiled, paths.signature] as [string, string]]) {
    // The policy first, then its signature: a crash between leaves a pair that fails to load, never a wrong one.
    writeDurable(dirname(file), basename(file), bytes, 0o644);
    writeDurable(dirname(sig), basename(sig), note, 0o644);
  }
}

export function versionFiles(paths: StackPaths, version: string): [string, string] {
  if (!/^[0-9a-f]{64}$/.test(version)) throw new CompiledStateError(`'${version}' is not a policy version`);
  return [join(paths.versions, `${version}.json`), join(paths.versions, `${version}.sig`)];
}

/** Load and check a compiled policy against the pinned stack keys (`dev`: one `faramesh dev` wrote is accepted too). */
export function loadCompiled(file: string, signatureFile: string, verifiers: readonly Verifier[], dev = false): CompiledPolicy {
  if (!existsSync(file)) throw new CompiledStateError(`no compiled policy at ${file}: run faramesh apply`);
  if (!existsSync(signatureFile)) throw new CompiledStateError(`the compiled policy has no signature (${signatureFile})`);
  const bytes = readFileSync(file);
  const opened = openNote(readFileSync(signatureFile, 'utf8'), verifiers);
  if (!opened.ok) throw new CompiledStateError(`the compiled policy's signature does not verify against the stack key: ${opened.reason}`);
  const [title, version, hash] = opened.text.split('\n');
  if (title === DEV_NOTE_TITLE && !dev)
    throw new CompiledStateError(
      'the compiled policy is one faramesh dev tried, left behind when dev was killed: run faramesh apply to apply governance.fms',
    );
  if ((title !== NOTE_TITLE && title !== DEV_NOTE_TITLE) || !version || !hash)
    throw new CompiledStateError('the signature is not over a compiled policy');
  if (hash !== sha256(bytes)) throw new CompiledStateError('the compiled policy was changed after it was signed (hash mismatch)');
  let compiled: CompiledPolicy;
  try {
    compiled = JSON.parse(bytes.toString('utf8')) as CompiledPolicy;
  } catch {
    throw new CompiledStateError('the compiled policy is not JSON');
  }
  if (compiled.format !== COMPILED_FORMAT) throw new CompiledStateError(`unknown compiled format '${String(compiled.format)}'`);
  if (compiled.policy_version !== version || policyVersion(compiled.ir) !== version)
    throw new CompiledStateError('the compiled policy does not hash to the version it was signed as');
  return compiled;
}

/**
 * `faramesh bundle`: resolve every import of the stack and pack them into one tar for an air-gapped
 * host, where `faramesh apply --offline --bundle FILE` (or `check --bundle`) installs them.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadStack, parseAny, StackError } from '@faramesh/fpl';
import { renderDiagnostic } from '../../diagnostics.js';
import { makeOut, plural, type Out } from '../../output.js';
import { installBundle, makeBundle, PartialInstall, pinnedTrust } from '../../registry/bundle.js';
import { readLock } from '../../registry/lock.js';
import { compileStack } from '../../stack-compile.js';
import { exitCodeOf } from '../check.js';

export async function bundleCmd(o: { dir: string; out: string; noColor?: boolean }): Promise<number> {
  const out = makeOut(o.noColor);
  let compiled: Awaited<ReturnType<typeof compileStack>>;
  try {
    compiled = await compileStack(o.dir, { recordLock: true });
  } catch (e) {
    if (!(e instanceof StackError)) throw e;
    out.error(out.fail(e.message));
    return 1;
  }
  const { result } = compiled;
  const code = exitCodeOf(result, false);
  for (const d of result.diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
  if (code !== 0) {
    out.error(out.fail('the policy does not check: nothing was bundled'));
    return code;
  }
  let made: Awaited<ReturnType<typeof makeBundle>>;
  try {
    made = await makeBundle(o.dir, result.imports, result.policyVersion);
  } catch (e) {
    out.error(out.fail(`cannot bundle: ${(e as Error).message}`));
    return 1;
  }
  const { data, imports } = made;
  const tmp = `${o.out}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, o.out);
  } catch (e) {
    rmSync(tmp, { force: true });
    out.error(out.fail(`cannot write ${o.out}: ${(e as Error).message}`));
    return 1;
  }
  out.done(`wrote ${o.out} (${plural(imports.length, 'import')}, ${data.length} bytes)`);
  if (imports.length === 0) out.note('governance.fms imports nothing: the bundle is empty');
  out.note(`on the offline host: faramesh apply --offline --bundle ${o.out}`);
  return 0;
}

/**
 * Install a bundle into the stack's import cache before compiling (`check`/`apply --bundle`). The
 * stack's own `trust { }` decides: every artifact must verify under a key pinned there. Returns an
 * exit code on failure (2, as for any unresolvable import).
 */
export async function useBundle(dir: string, file: string, out: Out): Promise<number | undefined> {
  try {
    const locked = readLock(dir);
    const policy = { ...pinnedTrust(parseAny(loadStack(dir).source)), ...(locked ? { locked } : {}) };
    const { imports } = await installBundle(dir, file, policy);
    out.note(out.ok(`bundle ${file}: ${plural(imports.length, 'import')} verified and installed in .faramesh/import-cache`));
    return undefined;
  } catch (e) {
    if (e instanceof StackError) {
      out.error(out.fail(e.message));
      return 1;
    }
    out.error(out.fail((e as Error).message));
    if (!(e instanceof PartialInstall)) out.error('nothing was installed');
    return 2;
  }
}

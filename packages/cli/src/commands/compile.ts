import { writeFileSync } from 'node:fs';
import { canonicalJson } from '@faramesh/protocol';
import { makeOut, type Format } from '../output.js';
import { renderDiagnostic } from '../diagnostics.js';
import { compileStack } from '../stack-compile.js';
import { exitCodeOf } from './check.js';

export interface CompileCmdOptions {
  dir: string;
  out?: string;
  offline?: boolean;
  /** The IR is JSON in both; json only adds a summary on stdout when --out takes the IR. */
  format?: Format;
  noColor?: boolean;
}

/** Print (or write) the compiled policy IR as canonical JSON, with its policy_version. */
export async function compileCmd(opts: CompileCmdOptions): Promise<number> {
  const out = makeOut(opts.noColor);
  const { result } = await compileStack(opts.dir, { ...opts, recordLock: true });
  const code = exitCodeOf(result, false);
  for (const d of result.diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
  if (code !== 0 || !result.ir) return code || 1;
  const json = canonicalJson({ policy_version: result.policyVersion, policy: result.ir });
  if (opts.out) {
    writeFileSync(opts.out, json + '\n');
    if (opts.format === 'json') out.print(JSON.stringify({ policy_version: result.policyVersion, out: opts.out }, null, 2));
    else out.note(out.ok(`wrote ${opts.out} (policy_version ${result.policyVersion})`));
  } else {
    out.print(json);
  }
  return 0;
}

import { renameSync, writeFileSync } from 'node:fs';
import { parse, print } from '@faramesh/fpl';
import { makeOut } from '../output.js';
import { renderDiagnostic } from '../diagnostics.js';
import { loadStack } from '@faramesh/fpl';

export interface FmtOptions {
  dir: string;
  check?: boolean;
  noColor?: boolean;
}

/** Rewrite governance.fms in canonical form (or, with --check, only say whether it is). */
export function fmt(opts: FmtOptions): number {
  const out = makeOut(opts.noColor);
  const stack = loadStack(opts.dir);
  if (stack.source.name !== 'governance.fms') {
    out.error(out.fail(`fmt formats FPL; ${stack.source.name} is a ${stack.source.name.endsWith('.json') ? 'JSON' : 'YAML'} policy`));
    return 1;
  }
  const { file, diagnostics } = parse(stack.source);
  if (diagnostics.errorCount > 0 || stack.invalidUtf8At !== undefined) {
    for (const d of diagnostics.sorted()) out.error(renderDiagnostic(d, out.color) + '\n');
    out.error(out.fail(`${stack.source.name} has syntax errors; nothing was changed`));
    return 1;
  }
  const formatted = print(file);
  if (formatted === stack.source.text) {
    out.done(`${stack.source.name} already formatted`);
    return 0;
  }
  if (opts.check) {
    out.error(out.fail(`${stack.source.name} is not formatted: run faramesh fmt`));
    return 1;
  }
  const tmp = `${stack.path}.fmt-${process.pid}.tmp`;
  writeFileSync(tmp, formatted);
  renameSync(tmp, stack.path);
  out.done(`formatted ${stack.source.name}`);
  return 0;
}

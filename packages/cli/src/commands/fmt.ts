import { chmodSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { parse, print } from '@faramesh/fpl';
import { makeOut, type Format, type Out } from '../output.js';
import { renderDiagnostic } from '../diagnostics.js';
import { loadStack } from '@faramesh/fpl';

export interface FmtOptions {
  dir: string;
  check?: boolean;
  format?: Format;
  noColor?: boolean;
}

/** What fmt found: `formatted` is whether the file is canonical now, `changed` whether fmt rewrote it. */
interface FmtReport {
  file: string;
  formatted: boolean;
  changed: boolean;
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
  const report: FmtReport = { file: stack.source.name, formatted: formatted === stack.source.text, changed: false };
  if (!report.formatted && !opts.check) {
    // Rewrite the file itself: a symlinked policy stays a link to its (now formatted) target, and
    // the file keeps its permissions.
    const target = realpathSync(stack.path);
    const mode = statSync(target).mode & 0o7777;
    const tmp = `${target}.fmt-${process.pid}.tmp`;
    try {
      writeFileSync(tmp, formatted, { mode });
      chmodSync(tmp, mode);
      renameSync(tmp, target);
    } catch (e) {
      // A locked policy (runtime { immutable_config } sets the immutable flag) or a read-only directory.
      rmSync(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      const locked = code === 'EPERM' || code === 'EACCES' || code === 'EROFS';
      out.error(
        out.fail(
          `${stack.source.name} could not be rewritten (${(e as Error).message}): nothing was changed${locked ? '; if apply locked it (runtime { immutable_config }), lift the flag first (chattr -i, or chflags nouchg)' : ''}`,
        ),
      );
      return 1;
    }
    report.formatted = report.changed = true;
  }
  if (opts.format === 'json') out.print(JSON.stringify(report, null, 2));
  else printReport(out, report);
  return report.formatted ? 0 : 1;
}

function printReport(out: Out, r: FmtReport): void {
  if (r.changed) out.done(`formatted ${r.file}`);
  else if (r.formatted) out.done(`${r.file} already formatted`);
  else out.error(out.fail(`${r.file} is not formatted: run faramesh fmt`));
}

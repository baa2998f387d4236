/** Printing the compiler's diagnostics, coloured on a terminal (kept apart from output.ts: it loads the compiler). */
import pc from 'picocolors';
import { formatDiagnostic, type Diagnostic, type Severity } from '@faramesh/fpl';

export function renderDiagnostic(d: Diagnostic, color: boolean): string {
  if (!color) return formatDiagnostic(d);
  return formatDiagnostic(d, (kind: Severity | 'dim', s: string) =>
    kind === 'error' ? pc.red(pc.bold(s)) : kind === 'warning' ? pc.yellow(pc.bold(s)) : pc.dim(s),
  );
}

/** Printing the compiler's diagnostics, coloured on a terminal (kept apart from output.ts: it loads the compiler). */
import pc from 'picocolors';
import { formatDiagnostic, type Diagnostic, type Severity } from '@faramesh/fpl';
import { printable } from './output.js';

/** Messages may quote what a registry sent (a key id, an algorithm): escaped before they are printed. */
export function renderDiagnostic(raw: Diagnostic, color: boolean): string {
  const d: Diagnostic = { ...raw, message: printable(raw.message), ...(raw.hint !== undefined ? { hint: printable(raw.hint) } : {}) };
  if (!color) return formatDiagnostic(d);
  return formatDiagnostic(d, (kind: Severity | 'dim', s: string) =>
    kind === 'error' ? pc.red(pc.bold(s)) : kind === 'warning' ? pc.yellow(pc.bold(s)) : pc.dim(s),
  );
}

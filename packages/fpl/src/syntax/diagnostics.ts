import type { Source, Span } from './source.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** A stable, kebab-case identifier of the kind of problem (e.g. `unknown-field`). */
  code: string;
  message: string;
  source: Source;
  span: Span;
  /** A suggested fix, e.g. "did you mean 'rate_limit'?". */
  hint?: string;
}

/** Collects diagnostics for one run; keeps them in source order when reported. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];

  error(source: Source, span: Span, code: string, message: string, hint?: string): void {
    this.push('error', source, span, code, message, hint);
  }

  warning(source: Source, span: Span, code: string, message: string, hint?: string): void {
    this.push('warning', source, span, code, message, hint);
  }

  private push(severity: Severity, source: Source, span: Span, code: string, message: string, hint?: string): void {
    const h = hint === undefined ? undefined : clampText(hint);
    this.items.push({ severity, code, message: clampText(message), source, span, ...(h ? { hint: h } : {}) });
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === 'error').length;
  }

  get warningCount(): number {
    return this.items.filter((d) => d.severity === 'warning').length;
  }

  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.source.name.localeCompare(b.source.name) || a.span.start - b.span.start);
  }
}

export interface DiagnosticJson {
  severity: Severity;
  code: string;
  file: string;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  message: string;
  hint?: string;
}

export function diagnosticToJson(d: Diagnostic): DiagnosticJson {
  const start = d.source.position(d.span.start);
  const end = d.source.position(Math.max(d.span.start, d.span.end));
  return {
    severity: d.severity,
    code: d.code,
    file: d.source.name,
    line: start.line,
    column: start.column,
    end_line: end.line,
    end_column: end.column,
    message: d.message,
    ...(d.hint ? { hint: d.hint } : {}),
  };
}

const MAX_SHOWN_LINE = 200;

/** Messages quote user text; a 1 MiB word must not become a 1 MiB message. */
export function clampText(text: string): string {
  return text.length <= 300 ? text : text.replace(/\S{61,}/g, (run) => `${run.slice(0, 40)}…`).slice(0, 600);
}

/**
 * Render as a compiler would:
 *
 *     governance.fms:18:31: error: expected 'per <window>', got 'minute'
 *        17 |   rate_limit "stripe/charge": 5 per minute
 *      > 18 |   rate_limit "stripe/refund": 5 minute
 *           |                               ^^^^^^
 *        = did you mean 'per minute'?
 */
export function formatDiagnostic(d: Diagnostic, color: (kind: Severity | 'dim', s: string) => string = (_, s) => s): string {
  const start = d.source.position(d.span.start);
  const endOffset = Math.max(d.span.start + 1, d.span.end);
  const lineText = d.source.lineText(start.line);
  const gutter = String(start.line + 1).length;
  const pad = (s: string) => s.padStart(gutter);
  const out = [`${d.source.name}:${start.line}:${start.column}: ${color(d.severity, d.severity)}: ${d.message}`];
  if (start.line > 1) out.push(color('dim', `   ${pad(String(start.line - 1))} | ${clip(d.source.lineText(start.line - 1), 0).text}`));
  const shown = clip(lineText, start.column - 1);
  out.push(` > ${pad(String(start.line))} | ${shown.text}`);
  const caretStart = start.column - 1 - shown.cut;
  const caretLen = Math.max(1, Math.min(endOffset - d.span.start, lineText.length - (start.column - 1), MAX_SHOWN_LINE));
  out.push(
    `   ${pad('')} | ${caretIndent(shown.text.slice(0, Math.max(0, caretStart + (shown.cut > 0 ? 1 : 0))))}${color(d.severity, '^'.repeat(caretLen))}`,
  );
  if (d.hint) out.push(`   ${pad('')} = ${d.hint}`);
  return out.join('\n');
}

/** Long lines are cut around the column of interest so a 1 MiB line prints as a readable excerpt. */
function clip(line: string, column: number): { text: string; cut: number } {
  const printable = line.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\uFFFD');
  if (printable.length <= MAX_SHOWN_LINE) return { text: printable, cut: 0 };
  const cut = Math.max(0, Math.min(column - 40, printable.length - MAX_SHOWN_LINE));
  return { text: (cut > 0 ? '…' : '') + printable.slice(cut, cut + MAX_SHOWN_LINE) + '…', cut: cut > 0 ? cut - 1 : 0 };
}

/** Spaces under the text before the caret, keeping its tabs, so the caret lines up in any terminal. */
function caretIndent(prefix: string): string {
  return prefix.replace(/[^\t]/g, ' ');
}

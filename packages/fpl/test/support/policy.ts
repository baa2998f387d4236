import { compile, type CompileOptions } from '../../src/compile.js';
import type { Diagnostic } from '../../src/syntax/diagnostics.js';
import { Source } from '../../src/syntax/source.js';
import type { PolicyIR } from '../../src/ir.js';

export interface Checked {
  errors: Diagnostic[];
  warnings: Diagnostic[];
  ir?: PolicyIR;
  policyVersion?: string;
  /** `code@line` for each diagnostic, in source order: compact to assert on. */
  summary: string[];
}

/** Compile policy text as a stack's governance.fms, with an empty environment unless given. */
export function checkText(text: string, name = 'governance.fms', options: CompileOptions = {}): Checked {
  const source = new Source(name, text);
  const result = compile(source, { env: {}, ...options });
  const sorted = result.diagnostics.sorted();
  return {
    errors: sorted.filter((d) => d.severity === 'error'),
    warnings: sorted.filter((d) => d.severity === 'warning'),
    ...(result.ir ? { ir: result.ir } : {}),
    ...(result.policyVersion ? { policyVersion: result.policyVersion } : {}),
    summary: sorted.map((d) => `${d.code}@${d.source.lineOf(d.span.start)}`),
  };
}

/** Wrap agent-body lines in an agent block (line 2 is the first body line). */
export function agent(body: string, id = 'bot'): string {
  return `agent "${id}" {\n${body}\n}\n`;
}

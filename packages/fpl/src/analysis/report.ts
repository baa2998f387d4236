import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Locations } from '../lower/context.js';

/** A diagnostic about a lowered object, where it was written (objects lowering did not track are skipped). */
export function reportAt(
  diagnostics: Diagnostics,
  locate: Locations,
  obj: object,
  severity: 'error' | 'warning',
  code: string,
  message: string,
  hint?: string,
): void {
  const at = locate.get(obj);
  if (at) diagnostics[severity](at.source, at.span, code, message, hint);
}

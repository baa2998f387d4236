/**
 * What went wrong while resolving one import. Kept as a value (not thrown) so the resolver can
 * report it at the import's span and carry on with the remaining imports.
 */
export interface ImportProblem {
  /** `import-*` codes make `faramesh check` exit 2; see `resolve.ts` for the full list. */
  code: string;
  message: string;
  hint?: string;
}

export function problem(code: string, message: string, hint?: string): ImportProblem {
  return { code, message, ...(hint ? { hint } : {}) };
}

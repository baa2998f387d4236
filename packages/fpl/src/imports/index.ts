/**
 * Registry imports: `import "<registry>/<kind>/[<ns>/]<name>@<version>" [as alias]`, resolved from a
 * local registry mirror or the stack's import cache, and accepted only when a key pinned in the
 * policy's `trust { }` block verifies the artifact's detached ed25519 signature.
 */
export { parseImportRef, refKey, refLabel, IMPORT_KINDS, type ImportRef, type ImportKind } from './ref.js';
export { collectTrustKeys, parseKeyValue, type TrustKey } from './trust.js';
export { resolveImports, MAX_IMPORT_DEPTH, type ResolvedImport, type ResolveOptions } from './resolve.js';
export { cacheDir } from './cache.js';
export type { ImportProblem } from './problem.js';

/**
 * Registry imports: `import "<registry>/<kind>/[<ns>/]<name>@<version>" [as alias]`, resolved from a
 * local registry mirror, what the CLI fetched from a remote registry, or the stack's import cache,
 * and accepted only when a key pinned in the policy's `trust { }` block verifies the artifact's
 * detached ed25519 signature.
 */
export { parseImportRef, refKey, refLabel, refSegments, IMPORT_KINDS, type ImportRef, type ImportKind } from './ref.js';
export { collectTrustKeys, parseKeyValue, type TrustKey } from './trust.js';
export { resolveImports, MAX_IMPORT_DEPTH, type FetchedImport, type ResolvedImport, type ResolveOptions } from './resolve.js';
export { ARTIFACT_FILES, artifactDigest, type Artifact } from './artifact.js';
export { noKeyList, parseRegistryKeys, type RegistryKey, type RegistryKeys } from './registry.js';
export { verifyArtifact } from './verify.js';
export { cacheDir, cachePath, makeCacheDir, readCached, writeCached } from './cache.js';
export { problem as importProblem, type ImportProblem } from './problem.js';

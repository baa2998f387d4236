/**
 * Imports from remote registries, fetched before the (synchronous) compiler runs. What the stack's
 * import cache holds and still verifies is not fetched again: a pinned version names fixed bytes.
 * Only an artifact that verifies under the policy's pinned keys is read for imports of its own, so
 * an unverified one cannot send the CLI to other hosts. The walk is bounded in breadth, total count
 * and bytes.
 */
import {
  ARTIFACT_FILES,
  artifactDigest,
  Diagnostics,
  MAX_IMPORT_DEPTH,
  Source,
  collectTrustKeys,
  decodePolicyBytes,
  importProblem,
  noKeyList,
  parse,
  parseImportRef,
  parseRegistryKeys,
  readCached,
  refKey,
  refLabel,
  refSegments,
  verifyArtifact,
  type Artifact,
  type FetchedImport,
  type FileNode,
  type ImportRef,
  type RegistryKeys,
} from '@faramesh/fpl';
import { join } from 'node:path';
import { catalogReader, type CatalogRead } from './catalog.js';
import { registryHttp, type RegistryHttp } from './http.js';
import { sourceFor, type RegistrySource } from './sources.js';

type Env = Record<string, string | undefined>;

/** Requests in flight at once, artifacts fetched in all, and their bytes in all. */
export const FETCH_LIMITS = { concurrent: 8, artifacts: 256, bytes: 64 * 1024 * 1024 };

/**
 * Fetch every import of `file` (and what those import) that the cache lacks. Undefined when imports
 * resolve from a local clone (`FARAMESH_REGISTRY_ROOT`), which the resolver reads itself.
 */
export async function fetchImports(
  file: FileNode,
  stackDir: string,
  env: Env = process.env,
  http: RegistryHttp = registryHttp(env),
  locked?: ReadonlyMap<string, { sha256: string }>,
): Promise<Map<string, FetchedImport> | undefined> {
  if (env.FARAMESH_REGISTRY_ROOT) return undefined;
  // Nested imports are trusted by the root policy's keys alone, as the resolver does.
  const trust = collectTrustKeys(file, new Diagnostics());
  const fetched = new Map<string, FetchedImport>();
  const seen = new Set<string>();
  const keyLists = new Map<string, Promise<RegistryKeys>>();
  const keysOf = (source: RegistrySource) => {
    let keys = keyLists.get(source.label);
    if (!keys) keyLists.set(source.label, (keys = readKeys(source, catalogReader(source, http))));
    return keys;
  };
  let count = 0;
  let bytes = 0;
  const fetchBounded = async (ref: ImportRef): Promise<FetchedImport> => {
    if (++count > FETCH_LIMITS.artifacts || bytes > FETCH_LIMITS.bytes)
      return {
        error: importProblem(
          'import-too-large',
          `${refLabel(ref)}: the imports reach more than ${FETCH_LIMITS.artifacts} artifacts or ${FETCH_LIMITS.bytes} bytes`,
        ),
      };
    const got = await fetchOne(ref, env, http, keysOf);
    if ('artifact' in got) bytes += got.artifact.bytes.length;
    return got;
  };

  let level: FileNode[] = [file];
  for (let depth = 1; level.length > 0 && depth <= MAX_IMPORT_DEPTH; depth++) {
    const refs: ImportRef[] = [];
    for (const ref of level.flatMap(importsOf)) {
      if (seen.has(refKey(ref))) continue;
      seen.add(refKey(ref));
      refs.push(ref);
    }
    const next: FileNode[] = [];
    await eachLimited(refs, FETCH_LIMITS.concurrent, async (ref) => {
      let artifact = readCached(stackDir, ref).artifact;
      // A cached copy the pinned keys no longer accept (a key rotated, a file edited), or that is not
      // the one the lock pins, is fetched again.
      const pinned = locked?.get(refKey(ref))?.sha256;
      if (
        artifact &&
        (verifyArtifact({ ref, artifact, trust, signatureRequired: true }).error || (pinned && artifactDigest(artifact.bytes) !== pinned))
      )
        artifact = undefined;
      if (!artifact) {
        const got = await fetchBounded(ref);
        fetched.set(refKey(ref), got);
        if (
          'error' in got ||
          verifyArtifact({ ref, artifact: got.artifact, trust, registryKeys: got.registryKeys, signatureRequired: true }).error ||
          (pinned !== undefined && artifactDigest(got.artifact.bytes) !== pinned)
        )
          return; // the resolver reports why
        artifact = got.artifact;
      }
      if (ref.kind !== 'providers') next.push(parseArtifact(ref, artifact));
    });
    level = next;
  }
  return fetched;
}

/** Run `f` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < items.length) await f(items[i++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function fetchOne(
  ref: ImportRef,
  env: Env,
  http: RegistryHttp,
  keysOf: (source: RegistrySource) => Promise<RegistryKeys>,
): Promise<FetchedImport> {
  let source: RegistrySource;
  try {
    source = sourceFor(ref.registry, env);
  } catch (e) {
    return { error: importProblem('import-no-registry', (e as Error).message) };
  }
  return readArtifactFrom(source, catalogReader(source, http), ref, keysOf);
}

/** One artifact and its signature, as the source holds them, with the source's key list. */
export async function readArtifactFrom(
  source: RegistrySource,
  read: CatalogRead,
  ref: ImportRef,
  keysOf: (source: RegistrySource) => Promise<RegistryKeys>,
): Promise<FetchedImport> {
  const label = refLabel(ref);
  const rel = `artifacts/${refSegments(ref).map(encodeURIComponent).join('/')}/`;
  const dir = source.kind === 'local' ? join(source.root, 'catalog', rel) : source.base + rel;
  for (const fileName of ARTIFACT_FILES[ref.kind]) {
    const body = await read(rel + fileName, label);
    if ('error' in body) return body;
    if ('missing' in body) continue;
    const sig = await read(`${rel}${fileName}.sig`, `${label} (signature)`);
    if ('error' in sig) return sig;
    const artifact: Artifact = { fileName, bytes: body.bytes, dir, origin: 'registry', ...('bytes' in sig ? { sig: sig.bytes } : {}) };
    return { artifact, registryKeys: await keysOf(source) };
  }
  return {
    error: importProblem(
      'import-not-found',
      `${label} is not in the registry ${source.label}: ${dir} has no ${ARTIFACT_FILES[ref.kind].join(' or ')}`,
      `check the name and pinned version: faramesh registry info ${label}`,
    ),
  };
}

/** The registry's key list: `trust/keys.json` in the catalog's files, `/v1/trust/keys` from the API. */
export async function readKeys(source: RegistrySource, read: CatalogRead): Promise<RegistryKeys> {
  const path = source.kind === 'api' ? 'v1/trust/keys' : 'trust/keys.json';
  const where = source.kind === 'local' ? join(source.root, 'catalog', path) : source.base + path;
  const got = await read(path, 'the registry key list');
  if ('error' in got) return { error: got.error };
  if ('missing' in got) return noKeyList(where);
  return parseRegistryKeys(Buffer.from(got.bytes).toString('utf8'), where);
}

function importsOf(file: FileNode): ImportRef[] {
  return file.items.flatMap((item) => (item.kind === 'Import' ? (parseImportRef(item.path.value).ref ?? []) : []));
}

/** Parsed only to find nested imports; the resolver parses it again and reports its problems. */
function parseArtifact(ref: ImportRef, artifact: Artifact): FileNode {
  return parse(new Source(ref.raw, decodePolicyBytes(artifact.bytes).text), new Diagnostics()).file;
}

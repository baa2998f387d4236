import type { FileNode, ImportNode } from '../syntax/ast.js';
import type { Diagnostics } from '../syntax/diagnostics.js';
import { parse } from '../syntax/parser.js';
import { decodePolicyBytes, Source } from '../syntax/source.js';
import { artifactDigest, type Artifact } from './artifact.js';
import { readCached, writeCached } from './cache.js';
import { problem, type ImportProblem } from './problem.js';
import { packageKey, parseImportRef, refKey, refLabel, type ImportRef } from './ref.js';
import { LocalRegistry, type RegistryKeys } from './registry.js';
import { collectTrustKeys, type TrustKey } from './trust.js';
import { verifyArtifact } from './verify.js';

/**
 * Diagnostic codes reported here. Every `import-*` error means "an import could not be resolved"
 * (`faramesh check` exits 2); `duplicate-import` and `invalid-trust-key` are ordinary schema errors.
 *
 *   import-invalid-ref          path is not `<registry>/<kind>/[<ns>/]<name>@<version>`
 *   import-unpinned             no version, `@latest`, a range or not MAJOR.MINOR.PATCH
 *   import-no-registry          FARAMESH_REGISTRY_ROOT is given but is not a catalog clone
 *   import-not-found            not in the registry, or (without a registry) not in the cache
 *   import-read-failed          an artifact file exists but cannot be read
 *   import-unsigned             an artifact (policy, framework or provider manifest) without a `.sig`
 *   import-malformed-signature  `.sig` is not the expected JSON
 *   import-unsupported-algorithm  `.sig` or keys.json names an algorithm other than ed25519
 *   import-no-trust-key         no key pinned in `trust { }` for the import's registry
 *   import-unknown-key          the `.sig` key id is not in the registry's keys.json
 *   import-invalid-keys         keys.json is malformed
 *   import-key-mismatch         the `.sig` and keys.json disagree about a key id's public key
 *   import-untrusted            signed by a key that is not the pinned one
 *   import-bad-signature        the pinned key does not verify the bytes (tampered artifact or cache)
 *   import-invalid-manifest     a provider's manifest.json is not a JSON object
 *   import-cycle, import-too-deep  nested imports loop or nest more than MAX_IMPORT_DEPTH levels
 *   import-digest-mismatch      verified, but not the bytes governance.fms.lock records for it
 *   import-unreachable, import-unauthorized, import-too-large
 *                               (from the CLI's fetching, passed in `fetched`) a remote registry could
 *                               not be reached, refused the request, or sent an oversized file
 *   import-cache-write-failed   (warning) the verified artifact could not be cached
 */

export interface ResolvedImport {
  node: ImportNode;
  ref: ImportRef;
  alias?: string;
  /** The parsed FPL; absent for providers, whose artifact is a manifest of binaries. */
  file?: FileNode;
  /** SHA-256 (hex) of the verified artifact bytes. */
  sha256: string;
  /** The key id of the verified signature. */
  keyId?: string;
  /** What this artifact imports itself, resolved with the root policy's trust keys. */
  imports: ResolvedImport[];
}

export interface ResolveOptions {
  /** The stack directory; the cache lives in `<stackDir>/.faramesh/import-cache/`. */
  stackDir: string;
  /** A local registry mirror (the CLI passes `FARAMESH_REGISTRY_ROOT`). */
  registryRoot?: string;
  /** Use only the import cache (`faramesh check --offline`). */
  offline?: boolean;
  /** Copy verified artifacts into the cache. Default true. */
  writeCache?: boolean;
  /** Pinned keys, if the caller already collected them; otherwise they are collected (and reported) here. */
  trust?: readonly TrustKey[];
  /**
   * Artifacts a remote registry already served (by `refKey`), with that registry's key list, or why
   * one could not be fetched. A ref not in the map is read from the cache. Ignored with `offline`.
   */
  fetched?: ReadonlyMap<string, FetchedImport>;
  /**
   * The SHA-256 (hex) each import must have, by `refKey` (the stack's `governance.fms.lock`): pinned
   * bytes, so a mirror, bundle or cache cannot hand over another artifact the same key signed.
   */
  locked?: ReadonlyMap<string, string>;
}

/** One import as a remote registry answered it, not yet verified. */
export type FetchedImport = { artifact: Artifact; registryKeys: RegistryKeys } | { error: ImportProblem };

export const MAX_IMPORT_DEPTH = 16;

/**
 * Resolve, verify and parse the file's imports, recursively. Problems are reported to `diagnostics`
 * at the import's path; an import that fails is left out of the result.
 */
export function resolveImports(file: FileNode, diagnostics: Diagnostics, options: ResolveOptions): ResolvedImport[] {
  const trust = options.trust ?? collectTrustKeys(file, diagnostics);
  return new Resolver(trust, diagnostics, options).resolveFile(file, [], 1);
}

/** A verified, parsed artifact, shared when several files import the same thing. */
interface Loaded {
  file?: FileNode;
  sha256: string;
  keyId?: string;
  imports: ResolvedImport[];
}

class Resolver {
  private registry?: { registry?: LocalRegistry; error?: ImportProblem };
  /** By refKey; `null` once an import failed, so its errors are reported once, not per importer. */
  private readonly loaded = new Map<string, Loaded | null>();

  constructor(
    private readonly trust: readonly TrustKey[],
    private readonly diagnostics: Diagnostics,
    private readonly options: ResolveOptions,
  ) {}

  resolveFile(file: FileNode, chain: string[], depth: number): ResolvedImport[] {
    const resolved: ResolvedImport[] = [];
    const aliases = new Map<string, ImportNode>();
    const packages = new Map<string, { node: ImportNode; ref: ImportRef }>();
    for (const node of file.items) {
      if (node.kind !== 'Import') continue;
      const report = (p: ImportProblem, span = node.path.span) => this.diagnostics.error(file.source, span, p.code, p.message, p.hint);
      const { ref, error } = parseImportRef(node.path.value);
      if (!ref) {
        report(error!);
        continue;
      }
      const alias = node.alias?.value;
      const line = (other: ImportNode) => file.source.position(other.span.start).line;
      if (alias !== undefined) {
        const other = aliases.get(alias);
        if (other) {
          report(problem('duplicate-import', `alias '${alias}' is already used by the import on line ${line(other)}`), node.alias!.span);
          continue;
        }
        aliases.set(alias, node);
      }
      const same = packages.get(packageKey(ref));
      if (same) {
        const why = same.ref.version === ref.version ? 'is imported twice' : `is imported at both ${same.ref.version} and ${ref.version}`;
        report(
          problem(
            'duplicate-import',
            `${refLabel(ref)} ${why} (first on line ${line(same.node)})`,
            'import each package once, at one version',
          ),
        );
        continue;
      }
      packages.set(packageKey(ref), { node, ref });

      const key = refKey(ref);
      if (chain.includes(key)) {
        const loop = [...chain.slice(chain.indexOf(key)), key].join(' → ');
        report(problem('import-cycle', `import cycle: ${loop}`));
        continue;
      }
      if (depth > MAX_IMPORT_DEPTH) {
        report(problem('import-too-deep', `imports nest more than ${MAX_IMPORT_DEPTH} levels deep`));
        continue;
      }
      const loaded = this.load(node, ref, file.source, [...chain, key], depth);
      if (!loaded) continue;
      resolved.push({ node, ref, ...(alias !== undefined ? { alias } : {}), ...loaded });
    }
    return resolved;
  }

  private load(node: ImportNode, ref: ImportRef, importer: Source, chain: string[], depth: number): Loaded | undefined {
    const key = refKey(ref);
    const known = this.loaded.get(key);
    if (known !== undefined) return known ?? undefined;

    const fetched = this.fetch(ref);
    if (fetched.warning)
      this.diagnostics.warning(importer, node.path.span, fetched.warning.code, fetched.warning.message, fetched.warning.hint);
    if (!fetched.artifact) {
      this.diagnostics.error(importer, node.path.span, fetched.error!.code, fetched.error!.message, fetched.error!.hint);
      this.loaded.set(key, null);
      return undefined;
    }
    const { artifact, keyId } = fetched;
    const sha256 = artifactDigest(artifact.bytes);
    const base = { sha256, ...(keyId !== undefined ? { keyId } : {}) };

    if (ref.kind === 'providers') {
      const manifestError = checkManifest(artifact, ref);
      if (manifestError) {
        this.diagnostics.error(importer, node.path.span, manifestError.code, manifestError.message, manifestError.hint);
        this.loaded.set(key, null);
        return undefined;
      }
      const result: Loaded = { ...base, imports: [] };
      this.loaded.set(key, result);
      return result;
    }

    // Named by the import path, so diagnostics and rule references point into the import.
    const decoded = decodePolicyBytes(artifact.bytes);
    const source = new Source(ref.raw, decoded.text);
    if (decoded.invalidUtf8At !== undefined) {
      this.diagnostics.error(
        source,
        { start: decoded.invalidUtf8At, end: decoded.invalidUtf8At + 1 },
        'invalid-utf8',
        `${artifact.fileName} is not valid UTF-8`,
      );
    }
    const { file } = parse(source, this.diagnostics);
    const result: Loaded = { ...base, file, imports: [] };
    this.loaded.set(key, result);
    result.imports = this.resolveFile(file, chain, depth + 1);
    return result;
  }

  /** Find the artifact (registry or cache, per the options) and verify it. */
  private fetch(ref: ImportRef): { artifact?: Artifact; keyId?: string; error?: ImportProblem; warning?: ImportProblem } {
    const { stackDir, registryRoot, offline } = this.options;
    const label = refLabel(ref);
    // Every artifact must be signed by a pinned key: a provider manifest lists the binary hashes apply will trust.
    const signatureRequired = true;

    const fetched = offline ? undefined : this.options.fetched?.get(refKey(ref));
    if (fetched && 'error' in fetched) return { error: fetched.error };
    if (fetched) return this.accept(ref, fetched.artifact, fetched.registryKeys);

    if (offline || registryRoot === undefined) {
      const cached = readCached(stackDir, ref);
      if (!cached.artifact) {
        return {
          error:
            cached.error ??
            (offline
              ? problem(
                  'import-not-found',
                  `${label} is not in the import cache, and --offline allows no other source`,
                  'run faramesh check once without --offline to fetch it, or install a bundle: --offline --bundle FILE',
                )
              : problem(
                  'import-not-found',
                  `${label} is not in the import cache`,
                  'run faramesh check to fetch it from its registry (or set FARAMESH_REGISTRY_ROOT to a local clone)',
                )),
        };
      }
      const verified = verifyArtifact({ ref, artifact: cached.artifact, trust: this.trust, signatureRequired });
      const wrong = verified.error ?? this.unlocked(ref, cached.artifact);
      return wrong ? { error: wrong } : { artifact: cached.artifact, ...verified };
    }

    this.registry ??= LocalRegistry.open(registryRoot);
    const { registry } = this.registry;
    if (!registry) return { error: this.registry.error! };
    const found = registry.read(ref);
    if (!found.artifact) {
      return {
        error:
          found.error ??
          problem(
            'import-not-found',
            `${label} is not in the registry: ${registry.artifactDir(ref)} has no ${expectedFiles(ref)}`,
            'check the name and pinned version against catalog/catalog.json',
          ),
      };
    }
    return this.accept(ref, found.artifact, registry.keys());
  }

  /** The lock's objection to these bytes, if it records others for this import. */
  private unlocked(ref: ImportRef, artifact: Artifact): ImportProblem | undefined {
    const want = this.options.locked?.get(refKey(ref));
    if (want === undefined) return undefined;
    const got = artifactDigest(artifact.bytes);
    if (got === want) return undefined;
    return problem(
      'import-digest-mismatch',
      `${refLabel(ref)} from ${artifact.origin === 'cache' ? 'the import cache' : artifact.dir} has sha256 ${got.slice(0, 16)}…, but governance.fms.lock pins ${want.slice(0, 16)}…: a registry, mirror, bundle or cache handed over other bytes, though signed by the same key`,
      artifact.origin === 'cache'
        ? 'run faramesh check online to fetch the pinned bytes again (or install a bundle of them); do not edit the lock to accept these'
        : 'if the registry re-published it on purpose, and you have confirmed that, remove its entry from governance.fms.lock and check again',
    );
  }

  /** Verify an artifact read from a registry, then cache it. */
  private accept(ref: ImportRef, artifact: Artifact, registryKeys: RegistryKeys): ReturnType<Resolver['fetch']> {
    const verified = verifyArtifact({ ref, artifact, trust: this.trust, registryKeys, signatureRequired: true });
    if (verified.error) return { error: verified.error };
    const wrong = this.unlocked(ref, artifact);
    if (wrong) return { error: wrong };
    const result = { artifact, ...verified };
    if (this.options.writeCache === false) return result;
    const label = refLabel(ref);
    try {
      writeCached(this.options.stackDir, ref, artifact);
      return result;
    } catch (e) {
      return {
        ...result,
        warning: problem(
          'import-cache-write-failed',
          `verified ${label}, but could not cache it: ${(e as Error).message}`,
          'faramesh check --offline will not find it',
        ),
      };
    }
  }
}

function expectedFiles(ref: ImportRef): string {
  return ref.kind === 'frameworks' ? 'profile.fpl or policy.fpl' : ref.kind === 'providers' ? 'manifest.json' : 'policy.fpl';
}

/** Provider binaries are fetched at apply; check only needs a well-formed manifest. */
function checkManifest(artifact: Artifact, ref: ImportRef): ImportProblem | undefined {
  try {
    const json: unknown = JSON.parse(Buffer.from(artifact.bytes).toString('utf8'));
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return undefined;
  } catch {
    // reported below
  }
  return problem('import-invalid-manifest', `manifest.json of ${refLabel(ref)} is not a JSON object`);
}

import { problem, type ImportProblem } from './problem.js';

export type ImportKind = 'policies' | 'frameworks' | 'providers';
export const IMPORT_KINDS: readonly ImportKind[] = ['policies', 'frameworks', 'providers'];

/** `<registry>/<kind>/[<ns>/]<name>@<version>`, split into its parts. */
export interface ImportRef {
  /** Everything before the kind segment, e.g. `github.com/faramesh/faramesh-registry`. */
  registry: string;
  kind: ImportKind;
  /** Absent when written without a namespace (`frameworks/langgraph@1.0.0`, `policies/stripe@1.3.0`). */
  ns?: string;
  name: string;
  version: string;
  /** The import path exactly as written. */
  raw: string;
}

// MAJOR.MINOR.PATCH with optional -prerelease and +build (semver 2.0.0 grammar, leading zeros rejected).
// A pre-release identifier: a number without leading zeros, or alphanumerics with at least one non-digit.
const PRE = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER = new RegExp(
  `^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-${PRE}(?:\\.${PRE})*)?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);
// ns, name: these become directory names, so '.', '..' and separators can never get through.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// Registry segments: host names, ports and repository names.
const REGISTRY_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._~:-]*$/;
const EXAMPLE = 'github.com/faramesh/faramesh-registry/policies/faramesh/stripe@1.0.0';

export function parseImportRef(raw: string): { ref?: ImportRef; error?: ImportProblem } {
  const at = raw.lastIndexOf('@');
  const path = at === -1 ? raw : raw.slice(0, at);
  const segments = path.split('/');
  const shape = splitPath(segments);
  if ('error' in shape) return { error: shape.error };

  if (at === -1) {
    return {
      error: problem(
        'import-unpinned',
        `import of ${shape.label} has no version; an exact pinned version is required`,
        `pin a version: "${path}@1.0.0"`,
      ),
    };
  }
  const version = raw.slice(at + 1);
  const versionError = checkVersion(version, path);
  if (versionError) return { error: versionError };

  const ref: ImportRef = { registry: shape.registry, kind: shape.kind, name: shape.name, version, raw };
  if (shape.ns !== undefined) ref.ns = shape.ns;
  return { ref };
}

/** A stable identity for an import: registry, package and version. */
export function refKey(ref: ImportRef): string {
  return `${packageKey(ref)}@${ref.version}`;
}

/** The package without its version, to catch one package imported at two versions. */
export function packageKey(ref: ImportRef): string {
  return `${ref.registry}/${ref.kind}/${ref.ns === undefined ? '' : `${ref.ns}/`}${ref.name}`;
}

/** Short form for messages: `policies/faramesh/stripe@1.0.0`. */
export function refLabel(ref: ImportRef): string {
  return `${ref.kind}/${ref.ns === undefined ? '' : `${ref.ns}/`}${ref.name}@${ref.version}`;
}

/** The artifact's directory below `catalog/artifacts/` (and below the import cache). */
export function refSegments(ref: ImportRef): string[] {
  return [ref.kind, ...(ref.ns === undefined ? [] : [ref.ns]), ref.name, ref.version];
}

type Shape = { registry: string; kind: ImportKind; ns?: string; name: string; label: string } | { error: ImportProblem };

function splitPath(segments: string[]): Shape {
  const invalid = (message: string, hint = `expected "<registry>/<kind>/<namespace>/<name>@<version>", e.g. "${EXAMPLE}"`) => ({
    error: problem('import-invalid-ref', message, hint),
  });
  const n = segments.length;
  // The kind is found from the right, so a registry path may itself contain a segment named like a kind.
  let kindAt: number;
  if (n >= 4 && isKind(segments[n - 3])) kindAt = n - 3;
  // The reference uses both `policies/faramesh/stripe@…` and `policies/stripe@…`: the namespace is optional.
  else if (n >= 3 && isKind(segments[n - 2])) kindAt = n - 2;
  else return invalid(`import path must name a registry, a kind (policies, frameworks or providers) and a package`);

  const registrySegments = segments.slice(0, kindAt);
  if (segments[0]?.endsWith(':') && segments[1] === '')
    return invalid('import path must not include a URL scheme', 'drop the scheme, e.g. "github.com/…"');
  const badRegistry = registrySegments.find((s) => !REGISTRY_SEGMENT.test(s));
  if (badRegistry !== undefined) return invalid(`invalid registry segment '${badRegistry}' in import path`);
  const rest = segments.slice(kindAt + 1);
  const badName = rest.find((s) => !NAME.test(s));
  if (badName !== undefined) return invalid(`invalid package segment '${badName}' in import path (letters, digits, '.', '_' and '-' only)`);

  const kind = segments[kindAt] as ImportKind;
  const name = rest[rest.length - 1]!;
  const ns = rest.length === 2 ? rest[0] : undefined;
  const label = `${kind}/${ns === undefined ? '' : `${ns}/`}${name}`;
  return { registry: registrySegments.join('/'), kind, name, label, ...(ns !== undefined ? { ns } : {}) };
}

function isKind(segment: string | undefined): boolean {
  return segment !== undefined && (IMPORT_KINDS as readonly string[]).includes(segment);
}

function checkVersion(version: string, path: string): ImportProblem | undefined {
  const hint = `pin an exact version, e.g. "${path}@1.0.0"`;
  if (version === '') return problem('import-unpinned', "empty version after '@'; an exact pinned version is required", hint);
  if (version.toLowerCase() === 'latest')
    return problem(
      'import-unpinned',
      "'@latest' is not allowed: imports must pin an exact version so the bytes cannot change under you",
      hint,
    );
  if (/^v\d/.test(version) && SEMVER.test(version.slice(1)))
    return problem('import-unpinned', `version '${version}' has a 'v' prefix`, `write "${path}@${version.slice(1)}"`);
  if (SEMVER.test(version)) return undefined;
  if (/[\^~*<>=|\s]|(^|\.)[xX*](\.|$)/.test(version))
    return problem('import-unpinned', `version range '${version}' is not allowed; imports must pin an exact version`, hint);
  return problem('import-unpinned', `'${version}' is not an exact version (MAJOR.MINOR.PATCH)`, hint);
}

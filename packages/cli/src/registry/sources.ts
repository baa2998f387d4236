/**
 * Where a registry's catalog is read from. Imports name their registry
 * (`github.com/faramesh/faramesh-registry/policies/…`); the environment may point every registry at
 * a local clone or at one HTTP registry instead.
 */

/** The registry `faramesh registry` browses when no `--registry` is given. */
export const DEFAULT_REGISTRY = 'github.com/faramesh/faramesh-registry';

export type RegistrySource =
  /** A clone of the catalog repository on disk (`FARAMESH_REGISTRY_ROOT`). */
  | { kind: 'local'; root: string; label: string }
  /**
   * The catalog repository's files served as they are (GitHub's raw file host):
   * `<base>catalog.json`, `<base>trust/keys.json`, `<base>artifacts/…`.
   */
  | { kind: 'files'; base: string; label: string }
  /**
   * An HTTP registry (the catalog repository's `cmd/registry` server): `<base>artifacts/…`,
   * `<base>v1/trust/keys`, `<base>v1/search`.
   */
  | { kind: 'api'; base: string; label: string };

type Env = Record<string, string | undefined>;

// A branch, tag or commit: what may stand in a raw-file URL path without escaping.
const GIT_REF = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * The source for `registry` (a registry name, or an http(s) URL given on the command line) under
 * `env`; throws an Error with a readable message when misconfigured.
 */
export function sourceFor(registry: string, env: Env = process.env): RegistrySource {
  if (/^https?:\/\//i.test(registry)) {
    const base = httpBase(registry, '--registry');
    return { kind: 'api', base, label: base };
  }
  if (env.FARAMESH_REGISTRY_ROOT) return { kind: 'local', root: env.FARAMESH_REGISTRY_ROOT, label: env.FARAMESH_REGISTRY_ROOT };
  if (env.FARAMESH_REGISTRY_URL) {
    const base = httpBase(env.FARAMESH_REGISTRY_URL, 'FARAMESH_REGISTRY_URL');
    return { kind: 'api', base, label: base };
  }
  const github = /^github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/i.exec(registry);
  if (github) {
    const ref = env.FARAMESH_REGISTRY_GITHUB_REF || 'main';
    if (!GIT_REF.test(ref) || ref.split('/').some((s) => s === '.' || s === '..'))
      throw new Error(`FARAMESH_REGISTRY_GITHUB_REF '${ref}' is not a branch, tag or commit name`);
    const base = `https://raw.githubusercontent.com/${github[1]}/${github[2]}/${ref}/catalog/`;
    return { kind: 'files', base, label: `${registry}@${ref}` };
  }
  // Any other registry name is a host (and path) serving the HTTP registry API over HTTPS.
  const base = httpBase(`https://${registry}`, `registry "${registry}"`);
  return { kind: 'api', base, label: registry };
}

/** An absolute http(s) URL ending in `/`, without credentials, query or fragment. */
export function httpBase(text: string, what: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${what} is not a URL: ${text}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${what} must be an http or https URL: ${text}`);
  if (url.username || url.password) throw new Error(`${what} must not hold credentials; use faramesh auth login or FARAMESH_TOKEN`);
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/**
 * The origin a login is stored under: `auth login --registry registry.internal` and an import from
 * `registry.internal/policies/…` meet at `https://registry.internal`; every GitHub registry at
 * GitHub's raw file host.
 */
export function loginOrigin(registry: string, env: Env = process.env): string {
  const source = loginSource(registry, env);
  if (source.kind === 'local') throw new Error('a local registry needs no login');
  return new URL(source.base).origin;
}

/** A login is for the registry it names, whatever FARAMESH_REGISTRY_ROOT or _URL say in this shell. */
export function loginSource(registry: string, env: Env = process.env): RegistrySource {
  return sourceFor(registry, { ...env, FARAMESH_REGISTRY_ROOT: '', FARAMESH_REGISTRY_URL: '' });
}

/** What a token may hold: printable ASCII, no spaces (so it can never break a header or a message). */
export const TOKEN_TEXT = /^[\x21-\x7e]+$/;

/**
 * The one origin `FARAMESH_TOKEN` is sent to: `FARAMESH_REGISTRY_URL`'s. Without that setting it is
 * sent nowhere, since an import may name any host.
 */
export function envTokenOrigin(env: Env = process.env): string | undefined {
  if (!env.FARAMESH_TOKEN || !env.FARAMESH_REGISTRY_URL) return undefined;
  try {
    return new URL(httpBase(env.FARAMESH_REGISTRY_URL, 'FARAMESH_REGISTRY_URL')).origin;
  } catch {
    return undefined;
  }
}

/**
 * A registry's catalog, for browsing (`faramesh registry list|search|info`): the index of its
 * providers, policy packs and framework profiles, from a local clone, the catalog's raw files, or an
 * HTTP registry's search API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as semverParse } from 'semver';
import type { ImportKind } from '@faramesh/fpl';
import type { GetResult, RegistryHttp } from './http.js';
import type { RegistrySource } from './sources.js';

export type EntryKind = 'policy' | 'framework' | 'provider';

export interface CatalogEntry {
  kind: EntryKind;
  name: string;
  latestVersion: string;
  description: string;
  trustTier: string;
  /** Known versions, oldest first (an HTTP registry's search lists only the latest). */
  versions: string[];
}

/** The import kind (directory under `artifacts/`) of an entry kind, and back. */
export const IMPORT_KIND: Record<EntryKind, ImportKind> = { policy: 'policies', framework: 'frameworks', provider: 'providers' };
export const ENTRY_KIND: Record<ImportKind, EntryKind> = { policies: 'policy', frameworks: 'framework', providers: 'provider' };

/** Reads a file of the catalog by its path below `catalog/`, from wherever the source keeps it. */
export type CatalogRead = (path: string, what: string) => Promise<GetResult>;

export function catalogReader(source: RegistrySource, http: RegistryHttp): CatalogRead {
  if (source.kind !== 'local') return (path, what) => http.get(source.base + path, what);
  return (path) => {
    for (const dir of [join(source.root, 'catalog'), source.root]) {
      try {
        return Promise.resolve({ bytes: new Uint8Array(readFileSync(join(dir, ...path.split('/').map(decodeURIComponent)))) });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR')
          return Promise.resolve({ error: { code: 'import-read-failed', message: (e as Error).message } });
      }
    }
    return Promise.resolve({ missing: true });
  };
}

/** Every entry of the catalog (filtered by the API itself when the source is an HTTP registry). */
export async function readCatalog(
  source: RegistrySource,
  http: RegistryHttp,
  query: { term?: string; kind?: EntryKind } = {},
): Promise<CatalogEntry[]> {
  const read = catalogReader(source, http);
  if (source.kind === 'api') {
    const params = new URLSearchParams({ ...(query.term ? { q: query.term } : {}), ...(query.kind ? { kind: query.kind } : {}) });
    const got = await read(`v1/search?${params}`, 'the registry search');
    const json = jsonOf(got, `${source.label} search`) as { packs?: unknown } | null;
    if (json === null) throw new Error(`${source.label} does not answer /v1/search: is it a Faramesh registry?`);
    // The registry's server writes a list with nothing in it as null.
    if (json.packs !== null && !Array.isArray(json.packs)) throw new Error(`${source.label}: the search answer has no 'packs' list`);
    return ((json.packs as unknown[] | null) ?? []).map((p) => entryOf(p, (p as { kind?: unknown } | null)?.kind, source.label));
  }
  const got = await read('catalog.json', 'the catalog index');
  const json = jsonOf(got, `${source.label} catalog.json`);
  if (json === null) throw new Error(`${source.label} has no catalog.json`);
  const sections: [string, EntryKind][] = [
    ['policies', 'policy'],
    ['packs', 'policy'],
    ['frameworks', 'framework'],
    ['providers', 'provider'],
  ];
  return sections.flatMap(([key, kind]) => {
    const list = (json as Record<string, unknown>)[key];
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw new Error(`${source.label} catalog.json: '${key}' is not a list`);
    return list.map((e) => entryOf(e, kind, source.label));
  });
}

/**
 * Every version an HTTP registry holds of one entry (its search lists only the latest), oldest
 * first; undefined when the registry does not say.
 */
export async function readVersions(
  source: RegistrySource,
  http: RegistryHttp,
  kind: EntryKind,
  name: string,
): Promise<string[] | undefined> {
  if (source.kind !== 'api') return undefined;
  const path = `v1/${IMPORT_KIND[kind]}/${name.split('/').map(encodeURIComponent).join('/')}/versions`;
  const got = await catalogReader(source, http)(path, `the versions of ${name}`);
  const json = jsonOf(got, `${source.label} ${path}`) as { versions?: unknown } | null;
  if (!json || !Array.isArray(json.versions)) return undefined;
  const versions = json.versions.flatMap((v) =>
    typeof (v as { version?: unknown } | null)?.version === 'string' ? [(v as { version: string }).version] : [],
  );
  return versions.sort(bySemver);
}

/** Entries matching a search term (name or description, any case) and kind. */
export function filterEntries(entries: CatalogEntry[], term?: string, kind?: EntryKind): CatalogEntry[] {
  const t = term?.toLowerCase();
  return entries.filter(
    (e) => (!kind || e.kind === kind) && (!t || e.name.toLowerCase().includes(t) || e.description.toLowerCase().includes(t)),
  );
}

function jsonOf(got: GetResult, what: string): unknown {
  if ('error' in got) throw new Error(got.error.message + (got.error.hint ? ` (${got.error.hint})` : ''));
  if ('missing' in got) return null;
  try {
    return JSON.parse(Buffer.from(got.bytes).toString('utf8')) as unknown;
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

function entryOf(raw: unknown, kind: unknown, label: string): CatalogEntry {
  const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  if (!str(e.name)) throw new Error(`${label}: a catalog entry has no name`);
  if (kind !== 'policy' && kind !== 'framework' && kind !== 'provider') throw new Error(`${label}: '${str(e.name)}' has an unknown kind`);
  const versions = typeof e.versions === 'object' && e.versions !== null ? Object.keys(e.versions).sort(bySemver) : [];
  const latestVersion = str(e.latest_version) || versions[versions.length - 1] || '';
  return {
    kind,
    name: str(e.name),
    latestVersion,
    description: str(e.description),
    trustTier: str(e.trust_tier),
    versions: versions.length > 0 ? versions : latestVersion ? [latestVersion] : [],
  };
}

/**
 * Semantic version precedence (a pre-release before its release, `rc.2` before `rc.10`); entries
 * that are not versions after the ones that are; text breaks ties (build metadata).
 */
export function bySemver(a: string, b: string): number {
  const pa = semverParse(a);
  const pb = semverParse(b);
  if (pa && !pb) return -1;
  if (!pa && pb) return 1;
  return (pa && pb ? pa.compare(pb) : 0) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * `faramesh registry list|search|info`: browse a registry's catalog, and check one artifact's
 * signature against the keys the stack pins, before importing it.
 */
import { existsSync } from 'node:fs';
import {
  artifactDigest,
  collectTrustKeys,
  Diagnostics,
  IMPORT_KINDS,
  loadStack,
  parseAny,
  parseImportRef,
  refLabel,
  verifyArtifact,
  type Artifact,
  type ImportRef,
  type RegistryKeys,
  type TrustKey,
} from '@faramesh/fpl';
import { makeOut, printable as escaped, snakeKeys, table, type Out } from '../../output.js';
import {
  ENTRY_KIND,
  IMPORT_KIND,
  catalogReader,
  filterEntries,
  readCatalog,
  readVersions,
  type CatalogEntry,
  type EntryKind,
} from '../../registry/catalog.js';
import { readArtifactFrom, readKeys } from '../../registry/fetch-imports.js';
import { registryHttp } from '../../registry/http.js';
import { DEFAULT_REGISTRY, sourceFor, type RegistrySource } from '../../registry/sources.js';

export interface BrowseOptions {
  registry?: string;
  kind?: EntryKind;
  format: 'text' | 'json';
  noColor?: boolean;
}

export async function registryList(term: string | undefined, o: BrowseOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const opened = open(o, out);
  if (!opened) return 2;
  let entries: CatalogEntry[];
  try {
    entries = filterEntries(
      await readCatalog(opened.source, registryHttp(), { ...(term ? { term } : {}), ...(o.kind ? { kind: o.kind } : {}) }),
      term,
      o.kind,
    );
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 2;
  }
  entries.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  if (o.format === 'json') {
    out.print(JSON.stringify(snakeKeys({ registry: opened.source.label, entries }), null, 2));
    return 0;
  }
  if (entries.length === 0) {
    out.note(`nothing in ${opened.source.label}${term ? ` matches '${term}'` : ''}${o.kind ? ` among ${o.kind} entries` : ''}`);
    return 0;
  }
  out.print(
    table(
      ['KIND', 'NAME', 'LATEST', 'TIER', 'DESCRIPTION'],
      entries.map((e) => [e.kind, e.name, e.latestVersion, e.trustTier, e.description].map(printable)),
    ),
  );
  const e = entries[0]!;
  out.note(
    printable(
      `${entries.length} in ${opened.source.label}; import one by its kind and version: import "${opened.registry}/${IMPORT_KIND[e.kind]}/${e.name}@${e.latestVersion || '<version>'}"`,
    ),
  );
  return 0;
}

/**
 * `info <kind>/[<ns>/]<name>[@<version>]`, or a whole import path: the catalog's entry, and the
 * artifact itself fetched and checked against the keys pinned in the stack's `trust { }`.
 */
export async function registryInfo(what: string, o: BrowseOptions & { dir: string }): Promise<number> {
  const out = makeOut(o.noColor);
  const url = isUrl(o.registry);
  const named = nameRef(what, url || !o.registry ? DEFAULT_REGISTRY : o.registry);
  if ('error' in named) {
    out.error(out.fail(named.error));
    return 64;
  }
  const opened = open({ registry: url ? o.registry : named.registry }, out);
  if (!opened) return 2;
  const http = registryHttp();
  let entry: CatalogEntry | undefined;
  try {
    const entries = await readCatalog(opened.source, http, { term: named.name, kind: ENTRY_KIND[named.kind] });
    entry = entries.find((e) => e.kind === ENTRY_KIND[named.kind] && e.name === named.name);
    const versions = entry && (await readVersions(opened.source, http, entry.kind, entry.name));
    if (entry && versions?.length) entry.versions = versions;
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 2;
  }
  const version = named.version ?? entry?.latestVersion;
  if (!version) {
    out.error(
      out.fail(
        `${named.kind}/${named.name} is not in the catalog of ${opened.source.label}; give a version to look for the artifact itself`,
      ),
    );
    return 1;
  }
  const ref = parseImportRef(`${named.registry}/${named.kind}/${named.name}@${version}`).ref;
  if (!ref) {
    out.error(out.fail(`'${version}' is not an exact version (MAJOR.MINOR.PATCH)`));
    return 64;
  }
  const read = catalogReader(opened.source, http);
  const fetched = await readArtifactFrom(opened.source, read, ref, (s) => readKeys(s, read));
  const info = {
    registry: opened.source.label,
    label: refLabel(ref),
    kind: ENTRY_KIND[ref.kind],
    name: named.name,
    version,
    listed: entry !== undefined && entry.versions.includes(version),
    ...(entry
      ? { latestVersion: entry.latestVersion, description: entry.description, trustTier: entry.trustTier, versions: entry.versions }
      : {}),
    import: ref.raw,
    ...('error' in fetched ? { error: fetched.error.message } : artifactFacts(fetched.artifact)),
    ...('error' in fetched ? {} : { pinned: pinnedCheck(o.dir, ref, fetched) }),
  };
  if (o.format === 'json') out.print(JSON.stringify(snakeKeys(info), null, 2));
  else printInfo(out, info);
  return 'error' in fetched ? 2 : 0;
}

type Info = Record<string, unknown> & { registry: string; import: string; pinned?: { verified: boolean; detail: string } };

function printInfo(out: Out, info: Info): void {
  const rows: [string, unknown][] = [
    ['description', info.description],
    ['trust tier', info.trustTier],
    [
      'versions',
      Array.isArray(info.versions)
        ? (info.versions as string[]).map((v) => (v === info.latestVersion ? `${v} (latest)` : v)).join(', ')
        : undefined,
    ],
    ['in catalog', info.listed ? 'yes' : 'no: the catalog does not list this version'],
    ['artifact', info.file ? `${String(info.file)}, ${String(info.size)} bytes, sha256 ${String(info.sha256)}` : undefined],
    ['signed by', info.file ? (info.signedBy ?? 'nobody: there is no signature, so it cannot be imported') : undefined],
    ['pinned here', info.pinned ? `${info.pinned.verified ? 'yes' : 'no'}: ${info.pinned.detail}` : undefined],
    ['import', `import "${info.import}"`],
  ];
  out.print(printable(`${String(info.label)}  (${info.registry})`));
  out.print(
    table(
      ['', ''],
      rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [`  ${k}`, printable(String(v))]),
    )
      .split('\n')
      .slice(1)
      .join('\n'),
  );
  if (info.error) out.error(out.fail(String(info.error)));
}

function artifactFacts(artifact: { fileName: string; bytes: Uint8Array; sig?: Uint8Array }): Record<string, unknown> {
  let signedBy: string | undefined;
  if (artifact.sig) {
    try {
      const sig = JSON.parse(Buffer.from(artifact.sig).toString('utf8')) as { key_id?: unknown };
      if (typeof sig.key_id === 'string') signedBy = sig.key_id;
    } catch {
      signedBy = 'a malformed signature file';
    }
  }
  return {
    file: artifact.fileName,
    size: artifact.bytes.length,
    sha256: artifactDigest(artifact.bytes),
    ...(signedBy ? { signedBy } : {}),
  };
}

/** Whether the stack in `dir` would accept the artifact: its pinned keys, the same check `faramesh check` makes. */
function pinnedCheck(
  dir: string,
  ref: ImportRef,
  fetched: { artifact: Artifact; registryKeys: RegistryKeys },
): { verified: boolean; detail: string } {
  let trust: TrustKey[];
  try {
    trust = collectTrustKeys(parseAny(loadStack(dir).source), new Diagnostics());
  } catch {
    return { verified: false, detail: `no governance.fms in ${dir} to take pinned keys from` };
  }
  const checked = verifyArtifact({ ref, artifact: fetched.artifact, trust, registryKeys: fetched.registryKeys, signatureRequired: true });
  if (checked.error) return { verified: false, detail: checked.error.message };
  return { verified: true, detail: `verifies under the key pinned for "${ref.registry}" (key ${checked.keyId})` };
}

/** A table cell of catalog text: escaped, on one line. */
const printable = (text: string) => escaped(text.replace(/[\n\t]/g, ' '));

/** What `info` was asked about: kind, catalog name and version, and the registry it names (if any). */
function nameRef(
  what: string,
  registry: string,
): { registry: string; kind: ImportRef['kind']; name: string; version?: string } | { error: string } {
  const at = what.lastIndexOf('@');
  const path = at === -1 ? what : what.slice(0, at);
  const version = at === -1 ? undefined : what.slice(at + 1);
  const segments = path.split('/');
  // The kind is the last kind-named segment before the name, as in an import path.
  let kindAt = -1;
  for (let i = segments.length - 2; i >= 0 && kindAt === -1; i--)
    if ((IMPORT_KINDS as readonly string[]).includes(segments[i]!)) kindAt = i;
  if (kindAt === -1 || segments.length - kindAt - 1 > 2)
    return {
      error: `'${what}' is not <kind>/[<namespace>/]<name>[@<version>] (kinds: policies, frameworks, providers), e.g. policies/faramesh/stripe@1.0.0`,
    };
  const from = kindAt > 0 ? segments.slice(0, kindAt).join('/') : registry;
  const parsed = parseImportRef(`${from}/${segments.slice(kindAt).join('/')}@${version ?? '0.0.0'}`);
  if (!parsed.ref) return { error: parsed.error!.message };
  const { ref } = parsed;
  return {
    registry: ref.registry,
    kind: ref.kind,
    name: ref.ns ? `${ref.ns}/${ref.name}` : ref.name,
    ...(version !== undefined ? { version } : {}),
  };
}

const isUrl = (registry: string | undefined) => registry !== undefined && /^https?:\/\//i.test(registry);

/**
 * The source to read, and the registry name imports use for it: an HTTP registry given by URL is
 * served under whatever name the policy imports it as (with FARAMESH_REGISTRY_URL), the default here.
 */
function open(o: { registry?: string }, out: Out): { source: RegistrySource; registry: string } | undefined {
  const given = o.registry ?? DEFAULT_REGISTRY;
  const registry = isUrl(given) ? DEFAULT_REGISTRY : given;
  try {
    const source = sourceFor(given);
    if (source.kind === 'local' && !existsSync(source.root)) throw new Error(`FARAMESH_REGISTRY_ROOT ${source.root} does not exist`);
    return { source, registry };
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return undefined;
  }
}

/**
 * Offline bundles (`faramesh bundle`, `apply --bundle`): every import a stack resolves, with its
 * signature, in one tar file to carry to a host without registry access. Installing one verifies
 * every artifact against the keys pinned in that host's own `governance.fms` before anything is
 * written, so a bundle adds no trust of its own.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  ARTIFACT_FILES,
  artifactDigest,
  cachePath,
  collectTrustKeys,
  Diagnostics,
  makeCacheDir,
  parseImportRef,
  readCached,
  refKey,
  refLabel,
  verifyArtifact,
  writeCached,
  type Artifact,
  type ImportRef,
  type ResolvedImport,
  type TrustKey,
} from '@faramesh/fpl';
import { extract, pack } from 'tar-stream';
import { flattenImports } from './lock.js';

export const BUNDLE_FORMAT = 'faramesh-bundle/1';
const MANIFEST = 'faramesh-bundle.json';
const MAX_BUNDLE = 64 * 1024 * 1024;
const MAX_ENTRY = 4 * 1024 * 1024;
const MAX_ENTRIES = 10_000;

export interface BundledImport {
  import: string;
  file: string;
  sha256: string;
  key_id?: string;
}

interface Manifest {
  format: typeof BUNDLE_FORMAT;
  created_at: string;
  /** The policy the bundle was made for; another policy may use it as long as its imports are inside. */
  policy_version?: string;
  imports: BundledImport[];
}

/** The tar of a stack's resolved imports, read back from its import cache (where the resolver left them, verified). */
export async function makeBundle(
  stackDir: string,
  imports: readonly ResolvedImport[],
  policyVersion?: string,
): Promise<{ data: Buffer; imports: BundledImport[] }> {
  const entries: [string, Uint8Array][] = [];
  const listed: BundledImport[] = [];
  for (const imp of flattenImports(imports)) {
    const { artifact, error } = readCached(stackDir, imp.ref);
    if (!artifact) throw new Error(`${refLabel(imp.ref)} is not in the import cache${error ? `: ${error.message}` : ''}`);
    if (artifactDigest(artifact.bytes) !== imp.sha256)
      throw new Error(`the import cache's copy of ${refLabel(imp.ref)} is not the one just resolved; run faramesh check and bundle again`);
    const path = `artifacts/${cachePath(imp.ref).join('/')}/${artifact.fileName}`;
    entries.push([path, artifact.bytes]);
    if (artifact.sig) entries.push([`${path}.sig`, artifact.sig]);
    listed.push({ import: imp.ref.raw, file: artifact.fileName, sha256: imp.sha256, ...(imp.keyId ? { key_id: imp.keyId } : {}) });
  }
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    created_at: new Date().toISOString(),
    ...(policyVersion ? { policy_version: policyVersion } : {}),
    imports: listed,
  };
  const tar = pack();
  const done = collect(tar);
  const put = (name: string, data: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      tar.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, Buffer.from(data), (e) => (e ? reject(e) : resolve())),
    );
  await put(MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
  for (const [name, data] of entries) await put(name, data);
  tar.finalize();
  return { data: await done, imports: listed };
}

/**
 * Verify every artifact of the bundle against `trust` (the stack's pinned keys), then copy them into
 * the stack's import cache. One that fails verification installs nothing; a write that fails midway
 * (a full disk) leaves the artifacts already written, each of them verified, and says so.
 */
export async function installBundle(
  stackDir: string,
  file: string,
  policy: { trust: TrustKey[]; locked?: ReadonlyMap<string, { sha256: string }> },
): Promise<{ imports: BundledImport[] }> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new Error(
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? `no bundle at ${file}` : `cannot read ${file}: ${(e as Error).message}`,
    );
  }
  if (size > MAX_BUNDLE) throw new Error(`${file} is ${size} bytes; a bundle holds at most ${MAX_BUNDLE}`);
  const entries = await readTar(readFileSync(file), file);
  const manifestBytes = entries.get(MANIFEST);
  if (!manifestBytes) throw new Error(`${file} is not a faramesh bundle: it has no ${MANIFEST}`);
  const manifest = parseManifest(manifestBytes, file);
  const checked: { ref: ImportRef; artifact: Artifact; listed: BundledImport }[] = [];
  for (const listed of manifest.imports) {
    const { ref, error } = parseImportRef(listed.import);
    if (!ref) throw new Error(`${file}: '${listed.import}' is not an import path (${error!.message})`);
    if (!ARTIFACT_FILES[ref.kind].includes(listed.file))
      throw new Error(`${file}: ${refLabel(ref)} names an unexpected file '${listed.file}'`);
    const path = `artifacts/${cachePath(ref).join('/')}/${listed.file}`;
    const bytes = entries.get(path);
    if (!bytes) throw new Error(`${file} lists ${refLabel(ref)} but holds no ${path}`);
    const digest = artifactDigest(bytes);
    if (digest !== listed.sha256) throw new Error(`${file}: ${path} does not match the digest its manifest lists`);
    const pinned = policy.locked?.get(refKey(ref))?.sha256;
    if (pinned !== undefined && pinned !== digest)
      throw new Error(
        `${file}: ${refLabel(ref)} has sha256 ${digest}, but governance.fms.lock pins ${pinned}: not the artifact this policy was locked to`,
      );
    const sig = entries.get(`${path}.sig`);
    const artifact: Artifact = { fileName: listed.file, bytes, dir: `${file}:${path}`, origin: 'registry', ...(sig ? { sig } : {}) };
    const verified = verifyArtifact({ ref, artifact, trust: policy.trust, signatureRequired: true });
    if (verified.error) throw new Error(`${file}: ${verified.error.message}${verified.error.hint ? ` (${verified.error.hint})` : ''}`);
    checked.push({ ref, artifact, listed });
  }
  // Every directory first, so that a cache that cannot take one stops the install before any write.
  try {
    for (const { ref } of checked) makeCacheDir(stackDir, ref);
  } catch (e) {
    throw new Error(`cannot prepare ${join(stackDir, '.faramesh', 'import-cache')}: ${(e as Error).message}`);
  }
  let written = 0;
  try {
    for (const { ref, artifact } of checked) {
      writeCached(stackDir, ref, artifact);
      written++;
    }
  } catch (e) {
    throw new PartialInstall(`installing stopped after ${written} of ${checked.length} artifacts (each verified): ${(e as Error).message}`);
  }
  return { imports: checked.map((c) => c.listed) };
}

/** An install that wrote some verified artifacts before it failed. */
export class PartialInstall extends Error {}

/** The keys a policy pins, for `installBundle`. */
export function pinnedTrust(file: Parameters<typeof collectTrustKeys>[0]): { trust: TrustKey[] } {
  return { trust: collectTrustKeys(file, new Diagnostics()) };
}

function parseManifest(bytes: Uint8Array, file: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error(`${file}: ${MANIFEST} is not valid JSON`);
  }
  const m = json as Partial<Manifest> | null;
  if (m?.format !== BUNDLE_FORMAT) throw new Error(`${file}: ${MANIFEST} is not ${BUNDLE_FORMAT}`);
  if (!Array.isArray(m.imports)) throw new Error(`${file}: ${MANIFEST} has no 'imports' list`);
  for (const i of m.imports as unknown[]) {
    const e = i as Partial<BundledImport> | null;
    if (typeof e?.import !== 'string' || typeof e.file !== 'string' || typeof e.sha256 !== 'string')
      throw new Error(`${file}: an entry of ${MANIFEST} lacks 'import', 'file' or 'sha256'`);
  }
  return m as Manifest;
}

/** The regular files of a tar by name, bounded in count and size; anything else in it is skipped. */
async function readTar(data: Buffer, file: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const ex = extract();
  ex.end(data);
  let count = 0;
  try {
    for await (const entry of ex) {
      const { name, type, size = 0 } = entry.header;
      if (++count > MAX_ENTRIES) throw new Error(`${file} holds more than ${MAX_ENTRIES} entries`);
      if (size > MAX_ENTRY) throw new Error(`${file}: ${name} is larger than ${MAX_ENTRY} bytes`);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) if (type === 'file') chunks.push(chunk as Buffer);
      if (type === 'file') files.set(name.replace(/^\.\//, ''), new Uint8Array(Buffer.concat(chunks)));
    }
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith(file) ? message : `${file} is not a readable tar: ${message}`);
  } finally {
    ex.destroy();
  }
  return files;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

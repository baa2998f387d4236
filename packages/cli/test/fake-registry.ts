/**
 * A registry for tests: a signed catalog on disk (the catalog repository's layout) served over HTTP
 * or HTTPS the way the catalog's own `cmd/registry` server does (`/artifacts/…`, `/v1/trust/keys`,
 * `/v1/search`, `/.well-known/faramesh.json`), plus its raw files (`/catalog.json`,
 * `/trust/keys.json`) as GitHub serves them. It records every request and may demand a token.
 */
import { sign, type KeyObject } from 'node:crypto';
import { ed25519PublicKey, newEd25519Key } from '@faramesh/audit';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { selfSignedCert } from './daemon-helpers.js';

export interface SeenRequest {
  path: string;
  authorization?: string;
}

type EntryKind = 'policy' | 'framework' | 'provider';
const SECTION: Record<EntryKind, string> = { policy: 'policies', framework: 'frameworks', provider: 'providers' };

export class FakeRegistry {
  readonly base = mkdtempSync(join(tmpdir(), 'faramesh-registry-'));
  readonly catalog = join(this.base, 'catalog');
  readonly keyId = 'test-registry-2026';
  readonly seen: SeenRequest[] = [];
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Path prefix → where to redirect it (for redirect tests). */
  readonly redirects = new Map<string, string>();
  url = '';
  /** With `tls`: the certificate a client must trust (NODE_EXTRA_CA_CERTS). */
  caFile?: string;
  private server?: Server;
  private readonly privateKey: KeyObject;
  readonly publicB64: string;
  private readonly index: Record<string, Record<string, unknown>[]> = { policies: [], frameworks: [], providers: [] };

  constructor() {
    this.privateKey = newEd25519Key();
    this.publicB64 = ed25519PublicKey(this.privateKey).toString('base64');
    mkdirSync(join(this.catalog, 'trust'), { recursive: true });
    const key = { id: this.keyId, algorithm: 'ed25519', public_key_b64: this.publicB64 };
    writeFileSync(join(this.catalog, 'trust', 'keys.json'), JSON.stringify({ keys: [key] }));
    this.writeIndex();
  }

  /**
   * Add an artifact, signed, and list it in catalog.json. `path` is below `artifacts/`, as in
   * `policies/acme/refunds/1.0.0`; `name` is its catalog name (`acme/refunds`).
   */
  add(kind: EntryKind, name: string, version: string, content: string, description = `${name} for tests`): string {
    const file = kind === 'framework' ? 'profile.fpl' : kind === 'provider' ? 'manifest.json' : 'policy.fpl';
    const rel = `artifacts/${SECTION[kind]}/${name}/${version}`;
    const dir = join(this.catalog, ...rel.split('/'));
    mkdirSync(dir, { recursive: true });
    const bytes = Buffer.from(content);
    writeFileSync(join(dir, file), bytes);
    const sig = {
      key_id: this.keyId,
      algorithm: 'ed25519',
      value_b64: sign(null, bytes, this.privateKey).toString('base64'),
      public_key_b64: this.publicB64,
    };
    writeFileSync(join(dir, `${file}.sig`), JSON.stringify(sig));
    const list = this.index[SECTION[kind]]!;
    let entry = list.find((e) => e.name === name);
    if (!entry) list.push((entry = { name, description, trust_tier: 'official', versions: {} }));
    (entry.versions as Record<string, string>)[version] = `${rel}/${file}`;
    entry.latest_version = version;
    this.writeIndex();
    return join(dir, file);
  }

  /** The `trust { }` block that pins this registry's key under `subject`. */
  trust(subject: string): string {
    return `trust {\n  key "${subject}" ed25519:${this.publicB64}\n}\n`;
  }

  async start(opts: { tls?: boolean; host?: string } = {}): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    if (opts.tls) {
      const cert = selfSignedCert(this.base, 'registry');
      this.caFile = cert.cert;
      this.server = createHttpsServer({ key: readFileSync(cert.key), cert: readFileSync(cert.cert) }, handler);
    } else this.server = createHttpServer(handler);
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((r) => this.server!.listen(0, host, () => r()));
    this.url = `${opts.tls ? 'https' : 'http'}://${host}:${(this.server.address() as { port: number }).port}/`;
    return this;
  }

  stop(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }

  cleanup(): void {
    this.stop();
    rmSync(this.base, { recursive: true, force: true });
  }

  private writeIndex(): void {
    writeFileSync(join(this.catalog, 'catalog.json'), JSON.stringify({ registry_id: 'test', packs: [], ...this.index }, null, 2));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://registry');
    this.seen.push({ path: url.pathname, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    for (const [prefix, to] of this.redirects) {
      if (url.pathname.startsWith(prefix)) {
        res.writeHead(302, { location: to + url.pathname.slice(prefix.length) });
        res.end();
        return;
      }
    }
    if (this.token && req.headers.authorization !== `Bearer ${this.token}`) return json(401, { error: 'unauthorized' });
    if (url.pathname === '/.well-known/faramesh.json') return json(200, { api_version: 'v1', registry_id: 'test', search: '/v1/search' });
    if (url.pathname === '/v1/trust/keys') {
      const { keys } = JSON.parse(readFileSync(join(this.catalog, 'trust', 'keys.json'), 'utf8')) as { keys: { id: string }[] };
      return json(200, { api_version: 'v1', keys: keys.map(({ id, ...k }) => ({ key_id: id, ...k, purpose: 'artifact-signature' })) });
    }
    if (url.pathname === '/v1/search') {
      const q = (url.searchParams.get('q') ?? '').toLowerCase();
      const kind = url.searchParams.get('kind') ?? '';
      const packs = (Object.entries(SECTION) as [EntryKind, string][]).flatMap(([k, section]) =>
        this.index[section]!.filter(
          (e) =>
            (!kind || kind === k) && (!q || String(e.name).toLowerCase().includes(q) || String(e.description).toLowerCase().includes(q)),
        ).map((e) => ({ kind: k, name: e.name, latest_version: e.latest_version, description: e.description, trust_tier: e.trust_tier })),
      );
      // The catalog's server (Go) writes an empty list as null.
      return json(200, { api_version: 'v1', packs: packs.length > 0 ? packs : null });
    }
    const versions = /^\/v1\/(policies|frameworks|providers)\/(.+)\/versions$/.exec(url.pathname);
    if (versions) {
      const entry = this.index[versions[1]!]!.find((e) => e.name === decodeURIComponent(versions[2]!));
      if (!entry) return json(404, { error: 'not found' });
      return json(200, {
        api_version: 'v1',
        name: entry.name,
        versions: Object.keys(entry.versions as object).map((version) => ({ version })),
      });
    }
    // Static files: the artifacts (both layouts), and the raw catalog files.
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
    if (rel.startsWith('..')) return json(400, { error: 'bad path' });
    try {
      const body = readFileSync(join(this.catalog, rel));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(body);
    } catch {
      json(404, { error: 'not found' });
    }
  }
}

/**
 * The SPIFFE Workload API (the local SPIRE agent), over gRPC on its Unix socket with @grpc/grpc-js.
 * - `jwtSvid`: a JWT-SVID for one SPIFFE id and audience: a short-lived bearer credential the broker
 *   injects at the call site (`credential { provider = "<spiffe>", scope = ["<audience>"] }`).
 * - `X509Watch`: the stream of X.509-SVIDs the daemon is entitled to, kept current as SPIRE rotates
 *   them; each is checked against its trust bundle before the daemon believes it.
 * Every call carries the `workload.spiffe.io: true` metadata the Workload API requires. The client
 * library is loaded only when a stack names a SPIFFE provider.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Secret } from './secret-value.js';
import { daemonNow } from '../core/clock.js';

/** The Workload API messages and service this daemon uses (field numbers from the SPIFFE spec). */
export const WORKLOAD_PROTO = `syntax = "proto3";
message X509SVIDRequest {}
message X509SVIDResponse {
  repeated X509SVID svids = 1;
  repeated bytes crl = 2;
  map<string, bytes> federated_bundles = 3;
}
message X509SVID {
  string spiffe_id = 1;
  bytes x509_svid = 2;
  bytes x509_svid_key = 3;
  bytes bundle = 4;
}
message JWTSVID {
  string spiffe_id = 1;
  string svid = 2;
}
message JWTSVIDRequest {
  repeated string audience = 1;
  string spiffe_id = 2;
}
message JWTSVIDResponse {
  repeated JWTSVID svids = 1;
}
service SpiffeWorkloadAPI {
  rpc FetchJWTSVID(JWTSVIDRequest) returns (JWTSVIDResponse);
  rpc FetchX509SVID(X509SVIDRequest) returns (stream X509SVIDResponse);
}
`;

type Grpc = typeof import('@grpc/grpc-js');
interface WorkloadClient {
  FetchJWTSVID(
    req: { audience: string[]; spiffe_id: string },
    md: import('@grpc/grpc-js').Metadata,
    opts: { deadline: number },
    cb: (err: Error | null, res?: { svids: { spiffe_id: string; svid: string }[] }) => void,
  ): void;
  FetchX509SVID(req: object, md: import('@grpc/grpc-js').Metadata): import('@grpc/grpc-js').ClientReadableStream<X509Response>;
  close(): void;
}
interface X509Response {
  svids: { spiffe_id: string; x509_svid: Buffer; bundle: Buffer }[];
}

let loaded: Promise<{ grpc: Grpc; Client: new (address: string, creds: unknown) => WorkloadClient }> | undefined;

/** grpc-js and the service definition, once. */
function workloadApi() {
  loaded ??= (async () => {
    const [grpc, loader, protobuf] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader'), import('protobufjs')]);
    const root = protobuf.default.parse(WORKLOAD_PROTO, { keepCase: true }).root;
    const definition = loader.fromJSON(root.toJSON(), { keepCase: true, longs: String, bytes: Buffer, defaults: true, arrays: true });
    const service = grpc.loadPackageDefinition(definition).SpiffeWorkloadAPI as unknown as new (a: string, c: unknown) => WorkloadClient;
    return { grpc, Client: service };
  })();
  return loaded;
}

/** `unix:///run/spire/agent.sock`, `unix:/path` or a bare path → the address grpc-js dials. */
function workloadAddress(socket: string): string {
  const path = socket.replace(/^unix:(\/\/)?/, '');
  if (!path.startsWith('/')) throw new Error(`the SPIFFE socket must be an absolute Unix socket path, not '${socket}'`);
  return `unix:${path}`;
}

/** A provider's Workload API socket: `socket`, else SPIFFE_ENDPOINT_SOCKET (the spec's variable). */
export function spiffeSocket(f: { str(k: string): string | undefined }, env: NodeJS.ProcessEnv): string {
  const socket = f.str('socket') ?? env.SPIFFE_ENDPOINT_SOCKET;
  if (!socket) throw new Error("spiffe needs socket (the SPIRE agent's Workload API), or SPIFFE_ENDPOINT_SOCKET");
  return socket;
}

const clients = new Map<string, WorkloadClient>();

async function client(socket: string): Promise<{ grpc: Grpc; c: WorkloadClient }> {
  const { grpc, Client } = await workloadApi();
  const address = workloadAddress(socket);
  let c = clients.get(address);
  if (!c) clients.set(address, (c = new Client(address, grpc.credentials.createInsecure())));
  return { grpc, c };
}

async function metadata(): Promise<import('@grpc/grpc-js').Metadata> {
  const { grpc } = await workloadApi();
  const md = new grpc.Metadata();
  md.set('workload.spiffe.io', 'true');
  return md;
}

/** A SPIFFE id: `spiffe://<trust domain>/<path>`, lower-case trust domain, no query or fragment. */
function isSpiffeId(id: string): boolean {
  return /^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(id);
}

/** Fetched JWT-SVIDs (at `at`): reused until `until`; `expMs` is when the token itself expires. */
const cache = new Map<string, { svid: string; issuance_id: string; expMs: number; at: number; until: number }>();

/**
 * A JWT-SVID for `spiffeId` with `audience`, reused until half its life has passed (at most 30 s).
 * The token's own claims must say it is what was asked for: subject, audience, expiry.
 */
export async function jwtSvid(socket: string, spiffeId: string, audience: string[], nowMs: number, timeoutMs: number): Promise<Secret> {
  if (!isSpiffeId(spiffeId)) throw new Error(`'${spiffeId}' is not a SPIFFE id (spiffe://trust-domain/path)`);
  if (audience.length === 0) throw new Error('a JWT-SVID needs an audience: give the credential scope = ["<audience>"]');
  const key = `${socket}\u0000${spiffeId}\u0000${audience.join('\u0000')}`;
  const hit = cache.get(key);
  // One fetched after now was fetched before the daemon's clock followed the system clock back (a step
  // of more than a week): its `until` would hold it, and its TTL say days, until the clock caught up.
  if (hit && hit.at <= nowMs && hit.until > nowMs)
    return { value: hit.svid, ttl_s: Math.floor((hit.expMs - nowMs) / 1000), issuance_id: hit.issuance_id };
  const { c } = await client(socket);
  const md = await metadata();
  const res = await new Promise<{ svids: { spiffe_id: string; svid: string }[] }>((resolve, reject) =>
    c.FetchJWTSVID({ audience, spiffe_id: spiffeId }, md, { deadline: Date.now() + timeoutMs }, (err, r) =>
      err ? reject(new Error(`Workload API: ${grpcMessage(err)}`)) : resolve(r!),
    ),
  );
  const found = res.svids.find((s) => s.spiffe_id === spiffeId);
  if (!found) throw new Error(`the Workload API has no JWT-SVID for ${spiffeId} (no registration entry for this daemon?)`);
  const claims = jwtClaims(found.svid);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.sub !== spiffeId) throw new Error(`the JWT-SVID is for ${String(claims.sub)}, not ${spiffeId}`);
  if (!audience.every((a) => aud.includes(a)))
    throw new Error(`the JWT-SVID's audience ${JSON.stringify(aud)} is not ${JSON.stringify(audience)}`);
  const expMs = Number(claims.exp) * 1000;
  const ttl_s = Math.floor((expMs - nowMs) / 1000);
  if (!(ttl_s > 0)) throw new Error('the JWT-SVID has expired');
  const issuance_id = `spiffe:${createHash('sha256').update(found.svid).digest('hex').slice(0, 24)}`;
  cache.set(key, { svid: found.svid, issuance_id, expMs, at: nowMs, until: nowMs + Math.min((expMs - nowMs) / 2, 30_000) });
  return { value: found.svid, ttl_s, issuance_id };
}

function jwtClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  try {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error('the Workload API returned a JWT-SVID that is not a JWT');
  }
}

function grpcMessage(e: Error): string {
  const details = (e as { details?: string }).details;
  return details || e.message;
}

/** An X.509-SVID the daemon checked against its bundle. */
export interface X509Svid {
  spiffe_id: string;
  /** When the leaf expires (ISO). */
  expires_at: string;
  expiresMs: number;
}

/**
 * The X.509-SVIDs the Workload API streams, kept current: a new message replaces the set (SPIRE
 * sends one on every rotation). A broken stream is reopened with backoff; meanwhile the last set
 * stands until its certificates expire.
 */
export class X509Watch {
  private svids = new Map<string, X509Svid>();
  private stream?: import('@grpc/grpc-js').ClientReadableStream<X509Response>;
  private closed = false;
  private retryMs = 250;
  private retry?: NodeJS.Timeout;
  private first?: { resolve: () => void; reject: (e: Error) => void };
  /** The last stream error, for `status`. */
  lastError?: string;

  constructor(
    private readonly socket: string,
    private readonly trustDomain: string,
    private readonly say: (line: string) => void,
  ) {}

  /** Open the stream; resolves at the first set of SVIDs, rejects when none arrives in time. */
  async start(timeoutMs: number): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => (this.first = { resolve, reject }));
    const timer = setTimeout(() => {
      const detail = this.lastError ? `: ${this.lastError}` : '';
      this.first?.reject(new Error(`the SPIFFE Workload API at ${this.socket} sent no X.509-SVIDs within ${timeoutMs} ms${detail}`));
      this.first = undefined;
    }, timeoutMs);
    try {
      await this.open();
      await ready;
    } finally {
      clearTimeout(timer);
      this.first = undefined;
    }
  }

  /** The agent's SVID when one is current at `nowMs`. */
  get(spiffeId: string, nowMs: number): X509Svid | undefined {
    const s = this.svids.get(spiffeId);
    return s && s.expiresMs > nowMs ? s : undefined;
  }

  get ids(): string[] {
    return [...this.svids.keys()];
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.stream?.cancel();
  }

  private async open(): Promise<void> {
    const { c } = await client(this.socket);
    const md = await metadata();
    if (this.closed) return;
    const stream = (this.stream = c.FetchX509SVID({}, md));
    stream.on('data', (res: X509Response) => {
      this.retryMs = 250;
      this.accept(res);
    });
    stream.on('error', (e: Error & { code?: number }) => {
      if (this.closed) return;
      this.lastError = grpcMessage(e);
      // PERMISSION_DENIED: SPIRE has no identity left for this daemon; what it held is withdrawn now.
      if (e.code === 7) this.svids = new Map();
    });
    stream.on('close', () => {
      if (this.closed) return;
      this.retry = setTimeout(() => {
        if (!this.closed) void this.open().catch((e: Error) => (this.lastError = e.message));
      }, this.retryMs);
      this.retry.unref();
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    });
  }

  private accept(res: X509Response): void {
    const next = new Map<string, X509Svid>();
    for (const s of res.svids) {
      try {
        next.set(s.spiffe_id, checkSvid(s, this.trustDomain));
      } catch (e) {
        this.say(`spiffe: ignored the SVID for ${s.spiffe_id}: ${(e as Error).message}`);
      }
    }
    this.svids = next;
    this.lastError = undefined;
    this.first?.resolve();
    this.first = undefined;
  }
}

/**
 * The SVID's certificates, checked as the X.509-SVID spec asks: the leaf names the SPIFFE id as its
 * only URI SAN, is in the trust domain and is not a CA; every certificate (the bundle's roots too)
 * is in date; each is signed by the next, and the next is a CA; the last by a bundle root.
 */
function checkSvid(s: X509Response['svids'][number], trustDomain: string): X509Svid {
  if (!s.spiffe_id.startsWith(`spiffe://${trustDomain}/`)) throw new Error(`not in trust domain ${trustDomain}`);
  const chain = splitDer(s.x509_svid).map((der) => new X509Certificate(der));
  const roots = splitDer(s.bundle).map((der) => new X509Certificate(der));
  const leaf = chain[0];
  if (!leaf) throw new Error('no certificate');
  if (leaf.ca) throw new Error('the leaf is a CA certificate');
  const uris = (leaf.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('URI:'));
  if (uris.length !== 1 || uris[0] !== `URI:${s.spiffe_id}`) throw new Error(`the certificate names ${uris.join(', ') || 'no URI'}`);
  const now = daemonNow();
  const inDate = (c: X509Certificate) => {
    const from = Date.parse(c.validFrom);
    const to = Date.parse(c.validTo);
    return Number.isFinite(from) && Number.isFinite(to) && from <= now && now < to;
  };
  if (!chain.every(inDate)) throw new Error('a certificate is out of date');
  const anchors = roots.filter((r) => r.ca && inDate(r));
  // The SVID is believed only while every certificate it rests on is in date: the leaf, each
  // intermediate and the bundle root it chains to. The earliest of them is when it expires.
  let expiresMs = Infinity;
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const next = chain[i + 1];
    const issuer = next ?? anchors.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
    if (!issuer || !issuer.ca || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey))
      throw new Error('it does not chain to the trust bundle');
    expiresMs = Math.min(expiresMs, Date.parse(cert.validTo), Date.parse(issuer.validTo));
  }
  return { spiffe_id: s.spiffe_id, expires_at: new Date(expiresMs).toISOString(), expiresMs };
}

/** Concatenated DER certificates → each one (a SEQUENCE with a long-form length). */
function splitDer(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] !== 0x30) throw new Error('not DER certificates');
    let len = bytes[at + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + bytes[at + 2 + i]!;
      head += n;
    }
    out.push(bytes.subarray(at, at + head + len));
    at += head + len;
  }
  return out;
}

/**
 * An in-process stand-in for Google Cloud's REST APIs as the official clients use them in REST
 * mode: Cloud KMS (`getPublicKey`, `asymmetricSign` with CRC32C checks both ways), Secret Manager
 * (`access`) and Cloud Storage (single-request multipart uploads, answered with the object's
 * CRC32C and MD5), over TLS. Every request must carry the self-signed JWT a service account makes
 * (RS256, issued by its email, not expired), verified against the account's public key.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@faramesh/audit';
import { KmsKey } from './kms-key.js';
import { endlessReply, startTlsApi, type TlsApi } from './fake-tls-api.js';

const ALGORITHM = { 'ecdsa-p256': 12, 'ecdsa-p384': 13, 'rsa-2048': 3, ed25519: 40 } as const;

export class FakeGcp {
  readonly email = 'faramesh@test-project.iam.gserviceaccount.com';
  private readonly account: { privateKey: KeyObject; publicKey: KeyObject };
  /** KMS key versions by resource name. */
  readonly kmsKeys = new Map<string, KmsKey>();
  /** Secret versions by `projects/p/secrets/s`, the latest last. */
  readonly secrets = new Map<string, string[]>();
  readonly calls: { method: string; path: string; authorized: boolean }[] = [];
  /** Send secret payloads with a wrong CRC32C, as a payload damaged on the way would arrive. */
  corrupt = false;
  /** Leave secret reads and KMS signs unanswered, as an API that accepts the connection and hangs would. */
  hang = false;
  /** Answer secret reads with a body that never ends. */
  endless = false;
  /** Cloud Storage objects by `bucket/name`. */
  readonly objects = new Map<string, { body: string; contentType?: string }>();
  /** Answer uploads 503, as an outage would. */
  storageDown = false;
  private api?: TlsApi;
  url = '';
  /** The CA file the daemon must trust (NODE_EXTRA_CA_CERTS) and the service account key file. */
  caFile = '';
  credentialsFile = '';

  constructor(private readonly dir: string) {
    // Made by openssl, not generateKeyPairSync: on Node 20 exporting a freshly generated key while V8
    // collects its generator job can deadlock.
    const pem = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
    const privateKey = createPrivateKey(pem);
    this.account = { privateKey, publicKey: createPublicKey(privateKey) };
  }

  async start(): Promise<void> {
    this.api = await startTlsApi(this.dir, 'gcp', (req, body, send, res) => {
      const url = new URL(req.url!, 'https://gcp');
      const path = decodeURIComponent(url.pathname);
      const authorized = this.authorized(req.headers.authorization);
      this.calls.push({ method: req.method!, path, authorized });
      if (!authorized)
        return send(401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } });
      const notFound = () => send(404, { error: { code: 404, message: `${path} not found`, status: 'NOT_FOUND' } });
      let m = /^\/v1\/(.+)\/publicKey$/.exec(path);
      if (req.method === 'GET' && m) {
        const key = this.kmsKeys.get(m[1]!);
        if (!key) return notFound();
        const pem = key.publicPem;
        return send(200, {
          pem,
          algorithm: ALGORITHM[key.type],
          pemCrc32c: String(crc32c(Buffer.from(pem))),
          name: m[1],
          protectionLevel: 2,
        });
      }
      m = /^\/v1\/(.+):asymmetricSign$/.exec(path);
      if (req.method === 'POST' && m) {
        if (this.hang) return;
        const key = this.kmsKeys.get(m[1]!);
        if (!key) return notFound();
        const p = JSON.parse(body) as { digest?: Record<string, string>; digestCrc32c?: string };
        const digest = Buffer.from(Object.values(p.digest ?? {})[0] ?? '', 'base64');
        const verified = p.digestCrc32c !== undefined && Number(p.digestCrc32c) === crc32c(digest);
        const signature = key.signDigest(digest);
        return send(200, {
          signature: signature.toString('base64'),
          signatureCrc32c: String(crc32c(signature)),
          verifiedDigestCrc32c: verified,
          name: m[1],
          protectionLevel: 2,
        });
      }
      m = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+):access$/.exec(path);
      if (req.method === 'GET' && m) {
        if (this.hang) return;
        if (this.endless) return endlessReply(res, '{"name":"');
        const versions = this.secrets.get(m[1]!);
        const n = m[2] === 'latest' ? versions?.length : Number(m[2]);
        const value = n ? versions?.[n - 1] : undefined;
        if (value === undefined) return notFound();
        const data = Buffer.from(value);
        return send(200, {
          name: `${m[1]}/versions/${n}`,
          payload: { data: data.toString('base64'), dataCrc32c: String(crc32c(data) ^ (this.corrupt ? 1 : 0)) },
        });
      }
      m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
      if (req.method === 'POST' && m && url.searchParams.get('uploadType') === 'multipart') {
        if (this.storageDown) return send(503, { error: { code: 503, message: 'Backend Error', status: 'UNAVAILABLE' } });
        const upload = multipart(String(req.headers['content-type']), body);
        if (!upload) return send(400, { error: { code: 400, message: 'not a multipart/related upload' } });
        const name = String(upload.metadata.name ?? url.searchParams.get('name'));
        this.objects.set(`${m[1]}/${name}`, { body: upload.data, ...(upload.contentType ? { contentType: upload.contentType } : {}) });
        const bytes = Buffer.from(upload.data);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32c(bytes) >>> 0);
        return send(200, {
          kind: 'storage#object',
          bucket: m[1],
          name,
          size: String(bytes.length),
          contentType: upload.contentType,
          crc32c: crc.toString('base64'),
          md5Hash: createHash('md5').update(bytes).digest('base64'),
          generation: String(Date.now()),
        });
      }
      notFound();
    });
    this.url = this.api.url;
    this.caFile = this.api.caFile;
    this.credentialsFile = join(this.dir, 'gcp-service-account.json');
    writeFileSync(
      this.credentialsFile,
      JSON.stringify({
        type: 'service_account',
        project_id: 'test-project',
        private_key_id: createHash('sha256').update(this.email).digest('hex').slice(0, 40),
        private_key: this.account.privateKey.export({ format: 'pem', type: 'pkcs8' }),
        client_email: this.email,
        client_id: '1234567890',
        token_uri: `${this.url}/token`,
      }),
      { mode: 0o600 },
    );
  }

  /** A self-signed service-account JWT: RS256 by the account's key, issued by its email, unexpired. */
  private authorized(header: string | undefined): boolean {
    const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
    if (!m) return false;
    const verifier = createVerify('RSA-SHA256').update(`${m[1]}.${m[2]}`);
    if (!verifier.verify(this.account.publicKey, Buffer.from(m[3]!, 'base64url'))) return false;
    const claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString()) as { iss?: string; exp?: number };
    return claims.iss === this.email && (claims.exp ?? 0) * 1000 > Date.now();
  }

  stop(): void {
    this.api?.stop();
  }
}

/** A `multipart/related` upload: its JSON metadata part, then the object's bytes (as text) and type. */
function multipart(
  contentType: string,
  body: string,
): { metadata: Record<string, unknown>; data: string; contentType?: string } | undefined {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!/^multipart\/related/i.test(contentType) || !boundary) return undefined;
  const parts = body
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((p) => {
      const split = p.indexOf('\r\n\r\n');
      const head = p.slice(0, split);
      return { type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim(), content: p.slice(split + 4).replace(/\r\n$/, '') };
    });
  if (parts.length !== 2) return undefined;
  return {
    metadata: JSON.parse(parts[0]!.content) as Record<string, unknown>,
    data: parts[1]!.content,
    ...(parts[1]!.type ? { contentType: parts[1]!.type } : {}),
  };
}

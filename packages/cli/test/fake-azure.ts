/**
 * An in-process stand-in for Microsoft Entra ID and Azure Key Vault as the official clients use
 * them, over TLS: OpenID discovery and the client-credentials token endpoint (tenant, client id and
 * secret checked, the Key Vault scope required), then Key Vault's secrets API, which answers an
 * unauthenticated request with the bearer challenge the client follows, and a request with a token
 * it did not issue with 401. Keys: `GET /keys/<name>[/<version>]` (the public JWK) and
 * `POST …/sign` of a digest, answered as Key Vault does, with the raw r‖s signature.
 */
import { randomBytes } from 'node:crypto';
import { endlessReply, startTlsApi, type TlsApi } from './fake-tls-api.js';
import type { KmsKey } from './kms-key.js';

export class FakeAzure {
  readonly tenant = 'f00dcafe-0000-4000-8000-000000000001';
  readonly clientId = 'c1c1c1c1-0000-4000-8000-000000000002';
  readonly clientSecret = randomBytes(16).toString('base64url');
  /** Secrets by name: versions, the latest last. */
  readonly secrets = new Map<string, { version: string; value: string; enabled?: boolean }[]>();
  /** Answer secret reads with their JSON cut short after the value, as a reply torn on the way would arrive. */
  torn = false;
  /** Keys by name: versions, the latest last (EC keys that sign digests, as an HSM-backed key would). */
  readonly keys = new Map<string, { version: string; key: KmsKey }[]>();
  /** Sign requests, as received. */
  readonly signs: { kid: string; alg: string }[] = [];
  readonly tokens = new Set<string>();
  readonly calls: { path: string; authorized: boolean }[] = [];
  tokenRequests = 0;
  /** Leave token requests unanswered, as an Entra ID endpoint that accepts the connection and hangs would. */
  tokenHang = false;
  /** Answer token requests, or secret reads, with a body that never ends. */
  tokenEndless = false;
  endless = false;
  private api?: TlsApi;
  url = '';
  caFile = '';

  constructor(private readonly dir: string) {}

  async start(): Promise<void> {
    this.api = await startTlsApi(this.dir, 'azure', (req, body, send, res) => {
      const u = new URL(req.url!, this.url);
      const base = `${this.url}/${this.tenant}`;
      if (u.pathname === `/${this.tenant}/v2.0/.well-known/openid-configuration`)
        return send(200, {
          issuer: `${base}/v2.0`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          response_types_supported: ['code', 'id_token', 'token'],
        });
      if (u.pathname === `/${this.tenant}/oauth2/v2.0/token` && req.method === 'POST') {
        this.tokenRequests++;
        if (this.tokenHang) return;
        if (this.tokenEndless) return endlessReply(res, '{"token_type":"Bearer","access_token":"');
        const form = new URLSearchParams(body);
        if (
          form.get('grant_type') !== 'client_credentials' ||
          form.get('client_id') !== this.clientId ||
          form.get('client_secret') !== this.clientSecret
        )
          return send(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
        if (form.get('scope') !== 'https://vault.azure.net/.default')
          return send(400, { error: 'invalid_scope', error_description: `unexpected scope ${form.get('scope')}` });
        const token = randomBytes(24).toString('base64url');
        this.tokens.add(token);
        return send(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
      }
      const secret = /^\/secrets\/([0-9A-Za-z-]+)(?:\/([0-9a-f]*))?\/?$/.exec(u.pathname);
      const key = /^\/keys\/([0-9A-Za-z-]+)(?:\/([0-9a-f]*))?(\/sign)?\/?$/.exec(u.pathname);
      if ((secret && req.method === 'GET') || key) {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const authorized = token !== undefined && this.tokens.has(token);
        this.calls.push({ path: u.pathname, authorized });
        if (!authorized)
          return send(
            401,
            { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
            { 'www-authenticate': `Bearer authorization="${base}", resource="https://vault.azure.net"` },
          );
        if (!u.searchParams.get('api-version')) return send(400, { error: { code: 'BadParameter', message: 'api-version required' } });
      }
      if (secret && req.method === 'GET') {
        if (this.endless) return endlessReply(res, '{"value":"');
        const versions = this.secrets.get(secret[1]!);
        const v = secret[2] ? versions?.find((x) => x.version === secret[2]) : versions?.at(-1);
        if (!v)
          return send(404, {
            error: { code: 'SecretNotFound', message: `A secret with (name/id) ${secret[1]} was not found in this key vault.` },
          });
        if (this.torn) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(`{"value":${JSON.stringify(v.value)},"id":"${this.url}/secrets/`);
        }
        return send(200, {
          value: v.value,
          id: `${this.url}/secrets/${secret[1]}/${v.version}`,
          attributes: { enabled: v.enabled ?? true },
        });
      }
      if (key) {
        const versions = this.keys.get(key[1]!);
        const v = key[2] ? versions?.find((x) => x.version === key[2]) : versions?.at(-1);
        if (!v)
          return send(404, { error: { code: 'KeyNotFound', message: `A key with (name/id) ${key[1]} was not found in this key vault.` } });
        const kid = `${this.url}/keys/${key[1]}/${v.version}`;
        if (!key[3] && req.method === 'GET') {
          const jwk = v.key.publicKey.export({ format: 'jwk' });
          return send(200, {
            key: { kid, kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y, key_ops: ['sign', 'verify'] },
            attributes: { enabled: true },
          });
        }
        if (key[3] && req.method === 'POST') {
          const { alg, value } = JSON.parse(body) as { alg?: string; value?: string };
          this.signs.push({ kid, alg: alg ?? '' });
          const size = v.key.type === 'ecdsa-p256' ? 32 : 48;
          if (alg !== (size === 32 ? 'ES256' : 'ES384'))
            return send(400, { error: { code: 'BadParameter', message: `${alg} does not fit this key` } });
          const signature = rawSignature(v.key.signDigest(Buffer.from(value ?? '', 'base64url')), size);
          return send(200, { kid, value: signature.toString('base64url') });
        }
      }
      send(404, { error: { code: 'NotFound', message: u.pathname } });
    });
    this.url = this.api.url;
    this.caFile = this.api.caFile;
  }

  stop(): void {
    this.api?.stop();
  }
}

/** An ASN.1 DER ECDSA signature as JWS and Key Vault write it: r and s, each `size` bytes. */
function rawSignature(der: Buffer, size: number): Buffer {
  let at = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  const int = () => {
    const len = der[at + 1]!;
    const v = der.subarray(at + 2, at + 2 + len);
    at += 2 + len;
    const trimmed = v.subarray(Math.max(0, v.length - size));
    return Buffer.concat([Buffer.alloc(size - trimmed.length), trimmed]);
  };
  return Buffer.concat([int(), int()]);
}

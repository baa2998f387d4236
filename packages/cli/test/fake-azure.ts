/**
 * An in-process stand-in for Microsoft Entra ID and Azure Key Vault as the official clients use
 * them, over TLS: OpenID discovery and the client-credentials token endpoint (tenant, client id and
 * secret checked, the Key Vault scope required), then Key Vault's secrets API, which answers an
 * unauthenticated request with the bearer challenge the client follows, and a request with a token
 * it did not issue with 401.
 */
import { randomBytes } from 'node:crypto';
import { startTlsApi, type TlsApi } from './fake-tls-api.js';

export class FakeAzure {
  readonly tenant = 'f00dcafe-0000-4000-8000-000000000001';
  readonly clientId = 'c1c1c1c1-0000-4000-8000-000000000002';
  readonly clientSecret = randomBytes(16).toString('base64url');
  /** Secrets by name: versions, the latest last. */
  readonly secrets = new Map<string, { version: string; value: string; enabled?: boolean }[]>();
  readonly tokens = new Set<string>();
  readonly calls: { path: string; authorized: boolean }[] = [];
  tokenRequests = 0;
  private api?: TlsApi;
  url = '';
  caFile = '';

  constructor(private readonly dir: string) {}

  async start(): Promise<void> {
    this.api = await startTlsApi(this.dir, 'azure', (req, body, send) => {
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
      const m = /^\/secrets\/([0-9A-Za-z-]+)(?:\/([0-9a-f]*))?\/?$/.exec(u.pathname);
      if (m && req.method === 'GET') {
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
        const versions = this.secrets.get(m[1]!);
        const v = m[2] ? versions?.find((x) => x.version === m[2]) : versions?.at(-1);
        if (!v)
          return send(404, {
            error: { code: 'SecretNotFound', message: `A secret with (name/id) ${m[1]} was not found in this key vault.` },
          });
        return send(200, { value: v.value, id: `${this.url}/secrets/${m[1]}/${v.version}`, attributes: { enabled: v.enabled ?? true } });
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

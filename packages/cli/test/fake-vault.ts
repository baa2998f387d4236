/**
 * An in-process stand-in for HashiCorp Vault that speaks its HTTP API as the broker uses it: KV v2
 * reads, child tokens with policies, TTLs and use counts, AppRole logins, and `X-Vault-Token` checks.
 * Also the check an upstream would make: is this token alive, and for which policies? And Transit
 * signing keys (ed25519, ecdsa-p256/p384) with versions, signing raw input or a prehashed digest.
 */
import { randomBytes } from 'node:crypto';
import { KmsKey, type KmsKeyType } from './kms-key.js';
import { createServer, type Server } from 'node:http';

interface Token {
  policies: string[];
  expires: number;
  uses: number;
  accessor: string;
  meta: Record<string, string>;
}

/** The policy's provider block for a FakeVault's KV mount `kv`, reached through VAULT_ADDR and VAULT_TOKEN (`vaultEnv`). */
export const VAULT_PROVIDER = `provider "vault" {
  type  = "vault"
  addr  = env("VAULT_ADDR")
  token = env("VAULT_TOKEN")
  mount = "kv"
}
`;

/** The environment VAULT_PROVIDER reads. */
export const vaultEnv = (vault: FakeVault): Record<string, string> => ({ VAULT_ADDR: vault.addr, VAULT_TOKEN: vault.root });

export class FakeVault {
  readonly root = `hvs.root-${randomBytes(8).toString('hex')}`;
  readonly kv = new Map<string, Record<string, unknown>>();
  readonly tokens = new Map<string, Token>();
  /** AppRole roles: role id → secret id and the policies its logins get. */
  readonly approles = new Map<string, { secretId: string; policies: string[] }>();
  /** Transit keys by name: every version, the latest last. */
  readonly transit = new Map<string, KmsKey[]>();
  /** Transit sign requests, as received. */
  readonly signs: Record<string, unknown>[] = [];
  logins = 0;
  /** Of `logins`, those that succeeded. */
  loginsOk = 0;
  /** When set, minted tokens live this long, whatever ttl was asked for. */
  mintedTtl?: number;
  /** While set, every request waits for it: a Vault that is slow to answer. */
  hold?: Promise<void>;
  /** While set, every request is answered 503, as by a sealed Vault. */
  sealed = false;
  private server?: Server;
  addr = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => void Promise.resolve(this.hold).then(() => answer()));
      const answer = () => {
        const send = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (this.sealed) return send(503, { errors: ['Vault is sealed'] });
        const url0 = new URL(req.url!, 'http://vault');
        if (req.method === 'POST' && url0.pathname === '/v1/auth/approle/login') {
          this.logins++;
          const { role_id, secret_id } = JSON.parse(body || '{}') as { role_id?: string; secret_id?: string };
          const role = this.approles.get(role_id ?? '');
          if (!role || role.secretId !== secret_id) return send(400, { errors: ['invalid role or secret ID'] });
          this.loginsOk++;
          const client = `hvs.approle-${randomBytes(12).toString('base64url')}`;
          this.tokens.set(client, {
            policies: role.policies,
            expires: Date.now() + 3600_000,
            uses: 0,
            accessor: randomBytes(8).toString('hex'),
            meta: {},
          });
          return send(200, { auth: { client_token: client, policies: role.policies, lease_duration: 3600, renewable: true } });
        }
        const token = req.headers['x-vault-token'];
        if (token !== this.root && !(typeof token === 'string' && this.alive(token))) return send(403, { errors: ['permission denied'] });
        const url = new URL(req.url!, 'http://vault');
        if (req.method === 'POST' && url.pathname === '/v1/auth/token/create') {
          const p = JSON.parse(body || '{}') as { policies?: string[]; ttl?: string; num_uses?: number; meta?: Record<string, string> };
          const ttl = this.mintedTtl ?? Number(/^(\d+)s$/.exec(p.ttl ?? '')?.[1] ?? 2764800);
          const client = `hvs.${randomBytes(12).toString('base64url')}`;
          const accessor = randomBytes(8).toString('hex');
          this.tokens.set(client, {
            policies: p.policies ?? [],
            expires: Date.now() + ttl * 1000,
            uses: p.num_uses ?? 0,
            accessor,
            meta: p.meta ?? {},
          });
          return send(200, { auth: { client_token: client, accessor, policies: p.policies ?? [], lease_duration: ttl, renewable: false } });
        }
        const transit = /^\/v1\/transit\/(keys|sign)\/([\w-]+)$/.exec(url.pathname);
        const versions = transit ? this.transit.get(transit[2]!) : undefined;
        if (transit && !versions) return send(404, { errors: [`no key ${transit[2]}`] });
        if (req.method === 'GET' && transit?.[1] === 'keys') {
          const keys = Object.fromEntries(
            versions!.map((k, i) => [
              String(i + 1),
              {
                name: k.type,
                creation_time: new Date().toISOString(),
                public_key: k.type === 'ed25519' ? k.raw.toString('base64') : k.publicPem,
              },
            ]),
          );
          return send(200, { data: { name: transit[2], type: versions![0]!.type, latest_version: versions!.length, keys } });
        }
        if (req.method === 'POST' && transit?.[1] === 'sign') {
          const p = JSON.parse(body || '{}') as { input: string; key_version?: number; prehashed?: boolean; marshaling_algorithm?: string };
          this.signs.push(p);
          const version = p.key_version ?? versions!.length;
          const key = versions![version - 1];
          if (!key) return send(400, { errors: [`no version ${version}`] });
          const input = Buffer.from(p.input, 'base64');
          if (key.type !== 'ed25519' && (!p.prehashed || p.marshaling_algorithm !== 'asn1'))
            return send(400, { errors: ['this fake signs ECDSA digests only'] });
          const sig = key.type === 'ed25519' ? key.signMessage(input) : key.signDigest(input);
          return send(200, { data: { signature: `vault:v${version}:${sig.toString('base64')}`, key_version: version } });
        }
        const kv = /^\/v1\/(.+?)\/data\/(.+)$/.exec(url.pathname);
        if (req.method === 'GET' && kv) {
          const data = this.kv.get(`${kv[1]}/${kv[2]}`);
          return data ? send(200, { data: { data, metadata: { version: 3 } } }) : send(404, { errors: [] });
        }
        send(404, { errors: [`no handler for ${req.method} ${url.pathname}`] });
      };
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.addr = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  addTransitKey(name: string, type: KmsKeyType): KmsKey {
    const key = new KmsKey(type);
    this.transit.set(name, [...(this.transit.get(name) ?? []), key]);
    return key;
  }

  /** What an upstream service would ask Vault: is this token valid now? (Spends one use.) */
  use(token: string): Token | undefined {
    const t = this.tokens.get(token);
    if (!t || !this.alive(token)) return undefined;
    if (t.uses > 0 && --t.uses === 0) t.expires = 0;
    return t;
  }

  private alive(token: string): boolean {
    const t = this.tokens.get(token);
    return t !== undefined && t.expires > Date.now();
  }

  stop(): void {
    this.server?.close();
    this.server?.closeAllConnections();
  }
}

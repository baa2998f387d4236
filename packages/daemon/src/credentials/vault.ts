/**
 * HashiCorp Vault over its HTTP API (small enough for fetch). The daemon authenticates with a token
 * (`token`), or logs in with AppRole (`role` = the role id, `secret_id`) and keeps the login token
 * until shortly before its lease ends. Two kinds of credential:
 * - a credential with a `path` is a KV v2 read (`GET /v1/<mount>/data/<path>`), the secret being the
 *   field `value` (or `token`, `key`, or the only string field);
 * - one without is a child token minted for this call (`POST /v1/auth/token/create`), whose
 *   policies are the credential's `scope`, with its `ttl` and a single use.
 */
import { replyText } from '../outbound/reply-text.js';
import { secretValue, type Secret } from './secret-value.js';

/** The most of a Vault reply that is read. */
const MAX_VAULT_REPLY = 1 << 20;

export interface VaultConfig {
  addr: string;
  token: string;
  mount?: string;
  namespace?: string;
}

export class VaultError extends Error {}

/** One Vault API call (`token` unset: an unauthenticated one, as a login is). */
export async function vaultCall(
  v: { addr: string; namespace?: string },
  token: string | undefined,
  timeoutMs: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  // Refused before it is quoted: every message below names the addr, and fetch's own refusal quotes
  // the whole URL, password included, into the agent's denial and the log.
  if (/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#]*@/i.test(v.addr.trim()))
    throw new VaultError(
      'vault addr carries a user name or password (user:password@), which is never sent: authenticate with token, or role and secret_id',
    );
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['x-vault-token'] = token;
  if (v.namespace) headers['x-vault-namespace'] = v.namespace;
  let res: Response;
  try {
    res = await fetch(`${v.addr.replace(/\/+$/, '')}/v1/${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      // Never followed: fetch would resend X-Vault-Token (and a login's secret_id) to wherever the
      // Location points, another host included, and take the secret it answered with.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new VaultError(
      `vault at ${v.addr}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`,
    );
  }
  if (res.status >= 300 && res.status < 400) {
    void res.body?.cancel();
    throw new VaultError(
      `vault at ${v.addr} answered ${method} ${path} with a ${res.status} redirect, not followed: set addr to the active node`,
    );
  }
  // A secret, a token or an error: never megabytes. A reply past the bound is refused unread.
  const { text, cut } = await replyText(res, MAX_VAULT_REPLY);
  if (cut) throw new VaultError(`vault's reply to ${method} ${path} is over ${MAX_VAULT_REPLY >> 20} MiB: refused`);
  if (!res.ok) {
    const errors = (() => {
      try {
        return (JSON.parse(text) as { errors?: string[] }).errors?.join('; ');
      } catch {
        return undefined;
      }
    })();
    throw new VaultError(`vault returned ${res.status}${errors ? `: ${errors}` : ''}`);
  }
  return JSON.parse(text) as Record<string, unknown>;
}

/** An AppRole login: the client token and how long it lives. */
export async function vaultLogin(
  v: { addr: string; namespace?: string },
  roleId: string,
  secretId: string,
  timeoutMs: number,
): Promise<{ token: string; ttl_s: number }> {
  const r = (await vaultCall(v, undefined, timeoutMs, 'POST', 'auth/approle/login', { role_id: roleId, secret_id: secretId })) as {
    auth?: { client_token?: string; lease_duration?: number };
  };
  if (!r.auth?.client_token) throw new VaultError('vault: the AppRole login returned no token');
  return { token: r.auth.client_token, ttl_s: r.auth.lease_duration ?? 0 };
}

export async function vaultIssue(
  v: VaultConfig,
  spec: { path?: string; scope: string[]; ttl_s: number; meta: Record<string, string> },
  timeoutMs: number,
): Promise<Secret> {
  const call = (method: string, path: string, body?: unknown) => vaultCall(v, v.token, timeoutMs, method, path, body);
  if (spec.path !== undefined) {
    const mount = (v.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
    // `mount = "kv/data/payments"` already names the data path (a `data` segment after the mount's
    // own); `mount = "kv"` or `mount = "apps/data-platform"` does not.
    const url = mount.split('/').slice(1).includes('data') ? `${mount}/${spec.path}` : `${mount}/data/${spec.path}`;
    const r = (await call('GET', url)) as { data?: { data?: Record<string, unknown>; metadata?: { version?: number } } };
    const value = secretValue(r.data?.data ?? {}, spec.path);
    return { value, ttl_s: spec.ttl_s, issuance_id: `kv:${spec.path}@${r.data?.metadata?.version ?? '?'}` };
  }
  // Vault fills an empty policy list with the parent's: the daemon's whole authority, to the agent.
  if (spec.scope.length === 0)
    throw new VaultError("a minted token needs scope (its Vault policies); with none it would carry every policy of the daemon's token");
  const r = (await call('POST', 'auth/token/create', {
    policies: spec.scope,
    ttl: `${spec.ttl_s}s`,
    explicit_max_ttl: `${spec.ttl_s}s`,
    num_uses: 1,
    renewable: false,
    display_name: 'faramesh',
    meta: spec.meta,
  })) as { auth?: { client_token?: string; accessor?: string; lease_duration?: number } };
  const auth = r.auth;
  if (!auth?.client_token) throw new VaultError('vault minted no token');
  const lease: unknown = auth.lease_duration;
  if (lease !== undefined && !(typeof lease === 'number' && Number.isFinite(lease) && lease >= 0))
    throw new VaultError('vault minted a token whose lease_duration is not a number of seconds');
  return { value: auth.client_token, ttl_s: auth.lease_duration ?? spec.ttl_s, issuance_id: `accessor:${auth.accessor ?? '?'}` };
}

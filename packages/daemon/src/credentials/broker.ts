/**
 * The credential broker: after a PERMIT, the smallest credential that works, fetched for that call
 * from the provider the agent's `credential` block names, and never handed to the agent's
 * environment. The decision record gets a `credential_ref` (provider, a hash of the path, scope,
 * issue time, TTL, the provider's issuance id), never the value. A provider that fails, or returns
 * a credential living longer than `max_ttl` where `scope_required = true`, blocks the call with
 * CREDENTIAL_UNAVAILABLE: fail closed. A credential naming no declared provider gets a stub secret
 * (`STUB-<id>`), for development.
 */
import { createHash, randomUUID } from 'node:crypto';
import { matchTool, type CredentialIR, type IRValue, type PolicyIR, type ProviderIR } from '@faramesh/fpl/runtime';
import { resolvedField } from '../stack/settings.js';
import { awsSecret } from './aws.js';
import type { Secret } from './secret-value.js';
import { vaultIssue, vaultLogin } from './vault.js';

export interface CredentialRef {
  provider: string;
  path_hash: string;
  scope: string[];
  issued_at: string;
  ttl_s: number;
  issuance_id: string;
}

export interface Issued {
  ok: true;
  value: string;
  /** Where the HTTP proxy puts it. */
  header: string;
  expires_at: string;
  ref: CredentialRef;
}

export interface Unavailable {
  ok: false;
  provider: string;
  message: string;
}

const DEFAULT_TTL_S = 30;
/** KV reads are cached this long at most (a minted token never is). */
const CACHE_S = 30;

/** How a provider has fared, for `faramesh status`. */
export interface BrokerStat {
  provider: string;
  issued: number;
  failed: number;
  last_error?: string;
  last_error_at?: string;
}

export class CredentialBroker {
  private readonly cache = new Map<string, { secret: Secret; until: number }>();
  /** AppRole login tokens, by provider (a login in progress is shared by the calls waiting on it). */
  private readonly logins = new Map<string, { token: Promise<string>; until: number }>();
  private readonly stats = new Map<string, BrokerStat>();
  /** Each applied policy's credential blocks by agent, so a call with none bound costs one lookup. */
  private readonly byAgent = new WeakMap<PolicyIR, Map<string, CredentialIR[]>>();

  /** Issued and failed counts per provider, with the last failure. */
  statuses(): BrokerStat[] {
    return [...this.stats.values()].sort((a, b) => a.provider.localeCompare(b.provider));
  }

  private count(provider: string, error?: string, nowMs = Date.now()): void {
    let s = this.stats.get(provider);
    if (!s) this.stats.set(provider, (s = { provider, issued: 0, failed: 0 }));
    if (error === undefined) s.issued++;
    else {
      s.failed++;
      s.last_error = error;
      s.last_error_at = new Date(nowMs).toISOString();
    }
  }

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The agent's credential binding for this tool, if any. */
  bindingFor(ir: PolicyIR, agentId: string, tool: string): CredentialIR | undefined {
    let index = this.byAgent.get(ir);
    if (!index)
      this.byAgent.set(ir, (index = new Map(ir.agents.filter((a) => a.credentials.length > 0).map((a) => [a.id, a.credentials]))));
    return index.get(agentId)?.find((c) => c.tools.some((t) => matchTool(t, tool)));
  }

  async issue(ir: PolicyIR, c: CredentialIR, agent: string, tool: string, nowMs: number): Promise<Issued | Unavailable> {
    const got = await this.attempt(ir, c, agent, tool, nowMs);
    this.count(got.ok ? got.ref.provider : got.provider, got.ok ? undefined : got.message, nowMs);
    return got;
  }

  private async attempt(ir: PolicyIR, c: CredentialIR, agent: string, tool: string, nowMs: number): Promise<Issued | Unavailable> {
    const providerName = typeof c.provider === 'string' ? c.provider : 'stub';
    const provider = ir.providers.find((p) => p.name === providerName);
    const ttl_s = c.ttl_s ?? DEFAULT_TTL_S;
    const header = c.header ?? 'Authorization';
    try {
      const secret = provider ? await this.fetch(provider, c, agent, tool, ttl_s, nowMs) : stub(c, ttl_s);
      const max = provider ? fieldNumber(provider, 'max_ttl') : undefined;
      if (provider && field(provider, 'scope_required', this.env) === true && max !== undefined && secret.ttl_s > max)
        return {
          ok: false,
          provider: providerName,
          message: `${providerName} returned a credential living ${secret.ttl_s}s, past max_ttl ${max}s`,
        };
      return {
        ok: true,
        value: header.toLowerCase() === 'authorization' ? `Bearer ${secret.value}` : secret.value,
        header,
        expires_at: new Date(nowMs + secret.ttl_s * 1000).toISOString(),
        ref: {
          provider: provider ? providerName : 'stub',
          path_hash: `${createHash('sha256')
            .update(c.path ?? `token:${c.id}`)
            .digest('hex')}`,
          scope: c.scope,
          issued_at: new Date(nowMs).toISOString(),
          ttl_s: secret.ttl_s,
          issuance_id: secret.issuance_id,
        },
      };
    } catch (e) {
      return { ok: false, provider: providerName, message: `${providerName} provider: ${(e as Error).message}` };
    }
  }

  private async fetch(p: ProviderIR, c: CredentialIR, agent: string, tool: string, ttl_s: number, nowMs: number): Promise<Secret> {
    const key = c.path === undefined ? undefined : `${p.name}\u0000${c.path}`;
    const hit = key ? this.cache.get(key) : undefined;
    if (hit && hit.until > nowMs) return hit.secret;
    const str = (name: string) => {
      const v = field(p, name, this.env);
      return typeof v === 'string' ? v : undefined;
    };
    const timeoutMs = (fieldNumber(p, 'timeout') ?? 5) * 1000;
    if (p.type === 'aws-sm' || p.type === 'aws-secrets-manager') {
      const region = str('region');
      if (!region || c.path === undefined) throw new Error('aws-sm needs region, and the credential a path (the secret id)');
      const secret = await awsSecret(
        { region, ...(str('role_arn') ? { role_arn: str('role_arn')! } : {}) },
        { path: c.path, ttl_s, agent },
        timeoutMs,
      );
      // With a role, every call is its own session: only a plain read is cached.
      if (!str('role_arn')) this.cache.set(key!, { secret, until: nowMs + Math.min(secret.ttl_s, CACHE_S) * 1000 });
      return secret;
    }
    if (p.type !== 'vault') throw new Error(`provider type '${p.type}' cannot issue credentials in this build`);
    const addr = str('addr');
    const namespace = str('namespace');
    if (!addr) throw new Error('vault needs addr');
    const token = await this.vaultToken(
      p.name,
      { addr, ...(namespace ? { namespace } : {}) },
      str('token'),
      str('role'),
      str('secret_id'),
      nowMs,
      timeoutMs,
    );
    const secret = await vaultIssue(
      { addr, token, ...(str('mount') ? { mount: str('mount')! } : {}), ...(namespace ? { namespace } : {}) },
      { ...(c.path !== undefined ? { path: c.path } : {}), scope: c.scope, ttl_s, meta: { agent, tool, call: randomUUID() } },
      timeoutMs,
    ).catch((e: Error) => {
      // A login token Vault no longer honours is dropped: the next call logs in again.
      if (!str('token')) this.logins.delete(p.name);
      throw e;
    });
    if (key) this.cache.set(key, { secret, until: nowMs + Math.min(secret.ttl_s, CACHE_S) * 1000 });
    return secret;
  }

  /** The token the daemon calls Vault with: `token`, or an AppRole login (`role`, `secret_id`) kept until its lease is mostly spent. */
  private vaultToken(
    provider: string,
    v: { addr: string; namespace?: string },
    token: string | undefined,
    role: string | undefined,
    secretId: string | undefined,
    nowMs: number,
    timeoutMs: number,
  ): Promise<string> {
    if (token) return Promise.resolve(token);
    if (!role || !secretId) return Promise.reject(new Error('vault needs a token, or role and secret_id (AppRole)'));
    const held = this.logins.get(provider);
    if (held && held.until > nowMs) return held.token;
    const login = vaultLogin(v, role, secretId, timeoutMs);
    const entry = { token: login.then((l) => l.token), until: Infinity };
    this.logins.set(provider, entry);
    login.then(
      (l) => (entry.until = nowMs + l.ttl_s * 1000 * LOGIN_REUSE),
      () => this.logins.delete(provider),
    );
    return entry.token;
  }
}

/** A login token is used until this share of its lease has passed, then the daemon logs in again. */
const LOGIN_REUSE = 0.8;

function stub(c: CredentialIR, ttl_s: number): Secret {
  return { value: `STUB-${c.id}`, ttl_s, issuance_id: `stub:${randomUUID()}` };
}

function field(p: ProviderIR, name: string, env: NodeJS.ProcessEnv): IRValue | undefined {
  return resolvedField(p.fields[name], `provider "${p.name}" ${name}`, env);
}

/** A duration or number field in seconds (`max_ttl = "5m"` compiles to seconds, or stays text). */
function fieldNumber(p: ProviderIR, name: string): number | undefined {
  const v = p.fields[name];
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
}

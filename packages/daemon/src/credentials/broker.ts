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
import { matchTool, type CredentialIR, type PolicyIR, type ProviderIR } from '@faramesh/fpl/runtime';
import { awsSecret } from './aws.js';
import { azureOptions, azureSecret } from './azure.js';
import { gcpOptions, gcpSecret } from './gcp.js';
import { providerFields, type ProviderFields } from './provider-fields.js';
import { resolvedField } from '../stack/settings.js';
import type { Secret } from './secret-value.js';
import { vaultIssue, vaultLogin } from './vault.js';
import { jwtSvid, spiffeSocket } from './spiffe.js';
import { daemonNow } from '../core/clock.js';

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
  /** Set when no retry can help (the surface can never carry it): the binding at fault, as a rule id. */
  blockedBy?: string;
}

const DEFAULT_TTL_S = 30;
/** KV reads are cached this long at most (a minted token never is). */
const CACHE_S = 30;

/**
 * A provider's health, from what its last fetches (a call's, or a probe's) met: `HEALTHY` when the
 * last one worked; `DEGRADED` when it failed after earlier ones worked, fewer than DOWN_AFTER times in
 * a row; `DOWN` past that, or when none has worked yet; `UNKNOWN` until the first is answered.
 */
export type ProviderHealth = 'UNKNOWN' | 'HEALTHY' | 'DEGRADED' | 'DOWN';
const DOWN_AFTER = 3;

/** How a provider has fared, for `faramesh status`. */
export interface BrokerStat {
  provider: string;
  status: ProviderHealth;
  /** Credentials issued to calls, and calls refused for the provider's failure (probes count in neither). */
  issued: number;
  failed: number;
  /** The last fetch answered, a call's or a probe's. */
  last_probe_at?: string;
  last_ok_at?: string;
  consecutive_failures: number;
  last_error?: string;
  last_error_at?: string;
}

export class CredentialBroker {
  /** Stored-secret reads by provider and path, with when each was read. */
  private readonly cache = new Map<string, { secret: Secret; at: number }>();
  /** AppRole login tokens, by provider (a login in progress is shared by the calls waiting on it). */
  private readonly logins = new Map<string, { token: Promise<string>; until: number }>();
  private readonly stats = new Map<string, BrokerStat>();
  /** Each applied policy's credential blocks by agent, so a call with none bound costs one lookup. */
  private readonly byAgent = new WeakMap<PolicyIR, Map<string, CredentialIR[]>>();

  /** Issued and failed counts per provider, with the last failure. */
  statuses(): BrokerStat[] {
    return [...this.stats.values()].sort((a, b) => a.provider.localeCompare(b.provider));
  }

  private stat(provider: string): BrokerStat {
    let s = this.stats.get(provider);
    if (!s) this.stats.set(provider, (s = { provider, status: 'UNKNOWN', issued: 0, failed: 0, consecutive_failures: 0 }));
    return s;
  }

  private count(provider: string, error?: string, nowMs = daemonNow(), probe = false): void {
    const s = this.stat(provider);
    const at = new Date(nowMs).toISOString();
    s.last_probe_at = at;
    if (error === undefined) {
      if (!probe) s.issued++;
      s.last_ok_at = at;
      s.consecutive_failures = 0;
      s.status = 'HEALTHY';
    } else {
      if (!probe) s.failed++;
      s.last_error = error;
      s.last_error_at = at;
      s.consecutive_failures++;
      s.status = s.last_ok_at === undefined || s.consecutive_failures >= DOWN_AFTER ? 'DOWN' : 'DEGRADED';
    }
  }

  /** Providers being probed now: a probe never overlaps another of the same provider. */
  private readonly probing = new Set<string>();

  /**
   * Fetch one credential of each provider the policy's credentials name, as a call would, its value
   * dropped: so `faramesh status` knows a provider's health before a call needs it (at start and on
   * apply), and sees one that failed come back without waiting for a call (`unhealthyOnly`, every
   * half minute). A provider with no credential bound to it has nothing to probe.
   */
  async probe(ir: PolicyIR, unhealthyOnly = false): Promise<void> {
    if (this.stubOnly) return;
    const targets = new Map<string, { agent: string; c: CredentialIR }>();
    for (const a of ir.agents)
      for (const c of a.credentials) {
        const name = this.providerLabel(c);
        if (!targets.has(name) && ir.providers.some((p) => p.name === name)) targets.set(name, { agent: a.id, c });
      }
    await Promise.all(
      [...targets].map(async ([name, { agent, c }]) => {
        const s = this.stat(name);
        if (this.probing.has(name) || (unhealthyOnly && (s.status === 'HEALTHY' || s.status === 'UNKNOWN'))) return;
        this.probing.add(name);
        try {
          const got = await this.attempt(ir, c, agent, c.tools[0] ?? 'probe', daemonNow(), true);
          this.count(name, got.ok ? undefined : got.message, daemonNow(), true);
        } finally {
          this.probing.delete(name);
        }
      }),
    );
  }

  /** `stubOnly` (faramesh dev): every credential is a `STUB-<id>` secret; no provider is contacted. */
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly stubOnly = false,
  ) {}

  /** The agent's credential binding for this tool, if any. */
  bindingFor(ir: PolicyIR, agentId: string, tool: string): CredentialIR | undefined {
    let index = this.byAgent.get(ir);
    if (!index)
      this.byAgent.set(ir, (index = new Map(ir.agents.filter((a) => a.credentials.length > 0).map((a) => [a.id, a.credentials]))));
    return index.get(agentId)?.find((c) => c.tools.some((t) => matchTool(t, tool)));
  }

  /** The provider a credential names: `provider = env("…")` is read where the daemon runs. */
  providerOf(c: CredentialIR): string {
    const name = resolvedField(c.provider, `credential "${c.id}" provider`, this.env);
    if (name === undefined) return 'stub';
    if (typeof name !== 'string' || name === '') throw new Error(`credential "${c.id}": provider must name a provider block`);
    return name;
  }

  /** The provider's name as a denial states it: `unknown` when the credential names none readable. */
  providerLabel(c: CredentialIR): string {
    try {
      return this.providerOf(c);
    } catch {
      return 'unknown';
    }
  }

  async issue(ir: PolicyIR, c: CredentialIR, agent: string, tool: string, nowMs: number): Promise<Issued | Unavailable> {
    const got = await this.attempt(ir, c, agent, tool, nowMs);
    this.count(got.ok ? got.ref.provider : got.provider, got.ok ? undefined : got.message, nowMs);
    return got;
  }

  /** `probe`: asked of the provider itself (never answered from the cache, nor kept in it). */
  private async attempt(
    ir: PolicyIR,
    c: CredentialIR,
    agent: string,
    tool: string,
    nowMs: number,
    probe = false,
  ): Promise<Issued | Unavailable> {
    let providerName: string;
    try {
      providerName = this.providerOf(c);
    } catch (e) {
      return { ok: false, provider: 'unknown', message: (e as Error).message };
    }
    const provider = this.stubOnly ? undefined : ir.providers.find((p) => p.name === providerName);
    // A name read from the environment means a real provider: one that names none is a mistake, never a stub.
    if (!provider && !this.stubOnly && typeof c.provider !== 'string' && c.provider !== undefined)
      return {
        ok: false,
        provider: providerName,
        message: `credential "${c.id}": provider "${providerName}" (from the environment) names no provider block`,
      };
    const ttl_s = c.ttl_s ?? DEFAULT_TTL_S;
    const header = c.header ?? 'Authorization';
    try {
      const f = provider ? providerFields(provider, this.env) : undefined;
      // scope_required: a credential may live no longer than max_ttl, or than its own ttl without one.
      // Read before anything is fetched: a ceiling that cannot be read refuses, never lifts.
      const required = f?.flag('scope_required') ?? false;
      const max = f?.seconds('max_ttl');
      if (required && max === undefined && f?.raw('max_ttl') !== undefined)
        throw new Error(`max_ttl ${JSON.stringify(f.raw('max_ttl'))} is not a duration`);
      const ceiling = max ?? ttl_s;
      const secret = provider ? await this.fetch(provider, c, agent, tool, ttl_s, nowMs, probe) : stub(c, ttl_s);
      const past = `past ${max !== undefined ? 'max_ttl' : 'its ttl'} ${ceiling}s`;
      // A lifetime of 0 is Vault's word for one that never ends.
      if (required && !(secret.ttl_s > 0))
        return {
          ok: false,
          provider: providerName,
          message: `${providerName} returned a credential that never expires (ttl ${secret.ttl_s}), ${past}`,
        };
      if (required && secret.ttl_s > ceiling)
        return {
          ok: false,
          provider: providerName,
          message: `${providerName} returned a credential living ${secret.ttl_s}s, ${past}`,
        };
      // A stored secret often ends in a line break (`vault kv put … token=@file`, a file's last line),
      // which no header may carry: the proxies refused the call (502). HTTP drops the whitespace
      // around a header's value anyway, so it goes here; a line break inside stays, and is refused.
      const value = trimmedOws(secret.value);
      return {
        ok: true,
        value: header.toLowerCase() === 'authorization' ? `Bearer ${value}` : value,
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
      return { ok: false, provider: providerName, message: `${providerName} provider: ${failure(e)}` };
    }
  }

  private async fetch(
    p: ProviderIR,
    c: CredentialIR,
    agent: string,
    tool: string,
    ttl_s: number,
    nowMs: number,
    probe: boolean,
  ): Promise<Secret> {
    const f = providerFields(p, this.env);
    // Keyed by what the provider block says now, not its name alone: a policy swapped in that points
    // the name elsewhere never gets what the old one read.
    const key = c.path === undefined || probe ? undefined : `${configKey(p, f)}\u0000${c.path}`;
    // A read is reused only within this credential's own TTL (at most CACHE_S), whichever credential
    // made it, and it is handed out with this credential's TTL, not the one it was read for.
    // A read stamped later than now was made before the daemon's clock followed the system clock back
    // (a step of more than a week): its age is unknown, so it is read again rather than reused for that long.
    const hit = key ? this.cache.get(key) : undefined;
    const age = hit ? nowMs - hit.at : -1;
    if (hit && age >= 0 && age < Math.min(ttl_s, CACHE_S) * 1000) return { ...hit.secret, ttl_s };
    const keep = (secret: Secret): Secret => {
      if (key) this.cache.set(key, { secret, at: nowMs });
      return secret;
    };
    const path = () => {
      if (c.path === undefined) throw new Error(`${p.type} reads a stored secret: the credential needs a path`);
      return c.path;
    };
    switch (p.type) {
      case 'aws-sm':
      case 'aws-secrets-manager': {
        const role_arn = f.str('role_arn');
        const secret = await awsSecret(
          { region: f.need('region'), ...(role_arn ? { role_arn } : {}) },
          { path: path(), ttl_s, agent },
          f.timeoutMs,
        );
        // With a role, every call is its own session: only a plain read is cached.
        return role_arn ? secret : keep(secret);
      }
      case 'gcp-sm':
        return keep(await gcpSecret(gcpOptions(f), path(), ttl_s, f.timeoutMs));
      case 'azure-kv':
        return keep(await azureSecret(azureOptions(f, this.env), path(), ttl_s, f.timeoutMs));
      case 'spiffe': {
        // The agent's own SPIFFE id unless the credential names one; the scope is the JWT's audience.
        const domain = f.str('trust_domain');
        const id = c.path ?? (domain ? `spiffe://${domain}/agents/${agent}` : undefined);
        if (!id) throw new Error('spiffe needs trust_domain, or the credential a path naming the SPIFFE id');
        if (domain && !id.startsWith(`spiffe://${domain}/`)) throw new Error(`${id} is not in trust domain ${domain}`);
        return jwtSvid(spiffeSocket(f, this.env), id, c.scope, nowMs, f.timeoutMs);
      }
      case 'vault':
        break;
      default:
        throw new Error(`provider type '${p.type}' cannot issue credentials`);
    }
    const addr = f.need('addr');
    const namespace = f.str('namespace');
    const login = configKey(p, f);
    const token = await this.vaultToken(
      login,
      { addr, ...(namespace ? { namespace } : {}) },
      f.str('token'),
      f.str('role'),
      f.str('secret_id'),
      nowMs,
      f.timeoutMs,
    );
    const mount = f.str('mount');
    const secret = await vaultIssue(
      { addr, token, ...(mount ? { mount } : {}), ...(namespace ? { namespace } : {}) },
      { ...(c.path !== undefined ? { path: c.path } : {}), scope: c.scope, ttl_s, meta: { agent, tool, call: randomUUID() } },
      f.timeoutMs,
    ).catch((e: Error) => {
      // A login token Vault no longer honours is dropped: the next call logs in again.
      if (!f.str('token')) this.logins.delete(login);
      throw e;
    });
    // A minted token is never cached: it is single-use.
    return key ? keep(secret) : secret;
  }

  /**
   * The token the daemon calls Vault with: `token`, or an AppRole login (`role`, `secret_id`) kept
   * until its lease is mostly spent, for the provider block as it stands (`provider`: its configKey),
   * so a login is never sent to another Vault.
   */
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

/** A provider block as it resolves now (its type and every field, `env()` read): what caches are keyed by. */
function configKey(p: ProviderIR, f: ProviderFields): string {
  const fields = Object.keys(p.fields)
    .sort()
    .map((k) => {
      try {
        return [k, f.raw(k) ?? null];
      } catch {
        return [k, { unset: true }];
      }
    });
  return createHash('sha256')
    .update(JSON.stringify([p.name, p.type, fields]))
    .digest('hex');
}

/**
 * What a provider's failure says. A reply that is not JSON is named, never quoted: the parsers quote
 * it (Azure's client all of it), and a reply cut short, or a bare value, carries the secret itself,
 * which the denial would hand to the agent and the log keep for good.
 */
function failure(e: unknown): string {
  const err = e as Error & { code?: unknown };
  return err instanceof SyntaxError || err.code === 'PARSE_ERROR' ? 'its reply is not valid JSON' : err.message;
}

/** A login token is used until this share of its lease has passed, then the daemon logs in again. */
const LOGIN_REUSE = 0.8;

function stub(c: CredentialIR, ttl_s: number): Secret {
  return { value: `STUB-${c.id}`, ttl_s, issuance_id: `stub:${randomUUID()}` };
}

/** `s` without the spaces, tabs and line breaks around it (not `trim()`: other Unicode spaces are the secret's). */
function trimmedOws(s: string): string {
  const blank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  let start = 0;
  let end = s.length;
  while (start < end && blank(s.charCodeAt(start))) start++;
  while (end > start && blank(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

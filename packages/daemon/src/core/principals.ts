/**
 * Who a call is made for. `principal.*` in a rule is trusted only because the daemon verified it:
 * a `principal_token` (a JWT) checked against an `identity "…" { type = "oidc" }` of the stack —
 * signature by its JWKS, issuer, audience, expiry — and, with `claim_agent_id`, issued for this
 * very agent. Claims an agent merely states (`principal: {…}`) are its own say-so: they count only
 * in `faramesh dev` or under `runtime { trust_sdk_principal = true }`; otherwise they are dropped.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { fetchableKeyUrl, type ProviderIR } from '@faramesh/fpl/runtime';
import { unfaithfulJson } from '@faramesh/protocol';
import { resolveStackPath } from '../stack/paths.js';
import { resolvedField, SettingsError } from '../stack/settings.js';
import { daemonNow } from './clock.js';
import { replyText } from '../outbound/reply-text.js';

export type Principal = Record<string, unknown>;

/** The field apply adds to an identity whose key set is a file: the SHA-256 of the file it read. */
const KEY_SET_DIGEST = 'jwks_sha256';
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The key set file of an identity (`jwks_file`, or a `file://` jwks_url) as given and resolved; undefined for none. */
function keySetFile(identity: ProviderIR, stackDir: string, env: NodeJS.ProcessEnv): { given: string; path: string } | undefined {
  const text = (key: string): string | undefined => {
    const v = resolvedField(identity.fields[key], `identity "${identity.name}".${key}`, env);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const url = text('jwks_url');
  const file = text('jwks_file') ?? (url?.startsWith('file://') ? new URL(url).pathname : undefined);
  return file === undefined ? undefined : { given: file, path: resolveStackPath(file, stackDir) };
}

/**
 * The identities with the digest of each key set file, as apply signs them: a key set changed on
 * disk is then a changed policy (apply swaps it in; a key taken out stops verifying at once), and a
 * daemon never loads keys other than the ones applied. A file that cannot be read is left for the
 * identity's own check to refuse.
 */
export function withKeySetDigests(identities: readonly ProviderIR[], stackDir: string, env: NodeJS.ProcessEnv): ProviderIR[] {
  return identities.map((identity) => {
    if (identity.type !== 'oidc') return identity;
    let bytes: Buffer;
    try {
      const file = keySetFile(identity, stackDir, env);
      if (file === undefined) return identity;
      bytes = readFileSync(file.path);
    } catch {
      return identity;
    }
    return { ...identity, fields: { ...identity.fields, [KEY_SET_DIGEST]: sha256(bytes) } };
  });
}

export type PrincipalOutcome = { principal?: Principal; ignored?: 'untrusted_claims' } | { refused: string };

interface Issuer {
  name: string;
  issuer?: string;
  audience?: string;
  keys: JWTVerifyGetKey;
  claimAgentId?: string;
  claimGroups?: string;
}

/** Verified tokens, so an agent reusing its token is not re-verified each call (until the token expires). */
const CACHE_SIZE = 1024;
/** How long a remote JWKS fetch may take. */
const JWKS_TIMEOUT_MS = 5000;

/** The most of an OpenID discovery document that is read. */
const MAX_DISCOVERY = 1 << 20;

/** How long a failed discovery keeps the next token from trying again. */
const DISCOVERY_RETRY_MS = 30_000;

/**
 * The key set of an identity that names only its issuer: OpenID Connect discovery
 * (`<issuer>/.well-known/openid-configuration`) gives its `jwks_uri`. Fetched when the first token
 * arrives, so a daemon starts while the IdP is unreachable; until discovery succeeds, tokens fail
 * verification (the call is denied). The document must name this very issuer, and its `jwks_uri`
 * must be fetchable as a `jwks_url` would be.
 */
function discoveredKeySet(issuer: string): JWTVerifyGetKey {
  let keys: JWTVerifyGetKey | undefined;
  let pending: Promise<JWTVerifyGetKey> | undefined;
  let failedAt = -Infinity;
  let failure: Error | undefined;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    const where = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(where, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS), redirect: 'error' });
    if (!res.ok) {
      void res.body?.cancel();
      throw new Error(`OpenID discovery at ${where} answered ${res.status}`);
    }
    // A discovery document is a few KiB: one of megabytes (or one that never ends) is refused, not held whole.
    const { text, cut } = await replyText(res, MAX_DISCOVERY);
    if (cut) throw new Error(`OpenID discovery at ${where} answered with a document over ${MAX_DISCOVERY >> 20} MiB`);
    const doc = JSON.parse(text) as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== issuer) throw new Error(`OpenID discovery at ${where} names issuer ${JSON.stringify(doc.issuer)}, not ${issuer}`);
    if (typeof doc.jwks_uri !== 'string' || !fetchableKeyUrl(doc.jwks_uri))
      throw new Error(`OpenID discovery at ${where} gives no https:// jwks_uri`);
    return createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: JWKS_TIMEOUT_MS });
  };
  return async (header, token) => {
    if (!keys) {
      if (daemonNow() - failedAt < DISCOVERY_RETRY_MS) throw failure!;
      pending ??= discover().finally(() => (pending = undefined));
      try {
        keys = await pending;
      } catch (e) {
        failedAt = daemonNow();
        failure = e as Error;
        throw failure;
      }
    }
    return keys(header, token);
  };
}

export class PrincipalGate {
  private readonly issuers: Issuer[];
  private readonly cache = new Map<string, { principal: Principal; agent: string; expMs: number }>();

  constructor(
    identities: readonly ProviderIR[],
    stackDir: string,
    env: NodeJS.ProcessEnv,
    /** Structured claims count as they are (dev, or trust_sdk_principal). */
    private readonly trustClaims: boolean,
  ) {
    this.issuers = identities.filter((i) => i.type === 'oidc').map((i) => issuerOf(i, stackDir, env));
  }

  /** Whether any call can carry `principal.*`: a token to verify, or claims trusted as stated. */
  get takesClaims(): boolean {
    return this.trustClaims || this.issuers.length > 0;
  }

  /** What the call's `principal.*` is, or why the call is refused. Synchronous unless a token must be verified. */
  resolve(
    p: { agent_id: string; principal?: Principal; principal_token?: string },
    nowMs: number,
  ): PrincipalOutcome | Promise<PrincipalOutcome> {
    // The published SDKs send an empty principal_token when none is configured: that is no token.
    if (p.principal_token !== undefined && p.principal_token !== '') return this.verify(p.principal_token, p.agent_id, nowMs);
    if (p.principal === undefined) return {};
    return this.trustClaims ? { principal: p.principal } : { ignored: 'untrusted_claims' };
  }

  private async verify(token: string, agent: string, nowMs: number): Promise<PrincipalOutcome> {
    const digest = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(digest);
    if (hit && hit.agent === agent && hit.expMs > nowMs) return { principal: hit.principal };
    if (this.issuers.length === 0)
      return {
        refused: 'a principal_token was sent, but the stack declares no identity provider to verify it (identity "…" { type = "oidc" })',
      };
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return { refused: 'the principal_token is not a JWT' };
    }
    // Several identities may share an issuer (one IdP, several applications): each is tried in turn.
    const candidates = this.issuers.filter((i) => i.issuer === unverified.iss);
    if (candidates.length === 0)
      return { refused: `the principal_token's issuer ${JSON.stringify(unverified.iss ?? null)} is not one this stack trusts` };
    let verified: { issuer: Issuer; claims: JWTPayload } | undefined;
    const failures: string[] = [];
    for (const issuer of candidates) {
      try {
        const { payload } = await jwtVerify(token, issuer.keys, {
          ...(issuer.issuer ? { issuer: issuer.issuer } : {}),
          ...(issuer.audience ? { audience: issuer.audience } : {}),
          currentDate: new Date(nowMs),
          requiredClaims: ['exp'],
        });
        verified = { issuer, claims: payload };
        break;
      } catch (e) {
        failures.push(`identity "${issuer.name}": ${(e as Error).message}`);
      }
    }
    if (!verified) return { refused: `the principal_token did not verify against ${failures.join('; ')}` };
    const { issuer, claims } = verified;
    // The claims are decided on and hashed into the record: ones the log cannot encode (a number that
    // reads as Infinity) or that the call's own params could not carry refuse the token, as params would.
    const unfaithful = unfaithfulJson(claims, 'the principal_token claims');
    if (unfaithful) return { refused: unfaithful };
    if (issuer.claimAgentId !== undefined && claims[issuer.claimAgentId] !== agent)
      return {
        refused: `the principal_token was issued for ${JSON.stringify(claims[issuer.claimAgentId] ?? null)} (claim ${issuer.claimAgentId}), not agent ${agent}`,
      };
    const principal: Principal = { ...claims };
    // principal.groups is the claim claim_groups names, and only that: a token without it has no
    // principal.groups (its own `groups` claim, perhaps one users manage, does not stand in).
    if (issuer.claimGroups !== undefined) {
      if (claims[issuer.claimGroups] !== undefined) principal.groups = claims[issuer.claimGroups];
      else delete principal.groups;
    }
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(digest, { principal, agent, expMs: (claims.exp ?? 0) * 1000 });
    return { principal };
  }
}

function issuerOf(identity: ProviderIR, stackDir: string, env: NodeJS.ProcessEnv): Issuer {
  const where = `identity "${identity.name}"`;
  const text = (key: string): string | undefined => {
    const v = resolvedField(identity.fields[key], `${where}.${key}`, env);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') throw new SettingsError(`${where}.${key} must be a non-empty string`);
    return v;
  };
  const issuer = text('issuer');
  const audience = text('audience') ?? text('client_id');
  // Without them, a token the IdP issued to any other application, or another IdP signing with a
  // key in this set, would pass.
  if (!issuer) throw new SettingsError(`${where} needs issuer: the iss every principal token must carry`);
  if (!audience) throw new SettingsError(`${where} needs audience (or client_id): else tokens issued to any application of the IdP pass`);
  const url = text('jwks_url');
  const file = keySetFile(identity, stackDir, env);
  let keys: JWTVerifyGetKey;
  if (file !== undefined) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file.path);
      keys = createLocalJWKSet(JSON.parse(bytes.toString('utf8')) as Parameters<typeof createLocalJWKSet>[0]);
    } catch (e) {
      throw new SettingsError(`${where}: cannot load the JWKS from ${file.given}: ${(e as Error).message}`);
    }
    // The key set is part of the policy applied: one edited since (a key added) is not trusted until applied.
    const applied = identity.fields[KEY_SET_DIGEST];
    if (applied !== undefined && applied !== sha256(bytes))
      throw new SettingsError(
        `${where}: ${file.given} changed since faramesh apply: apply it (its keys are not the ones the policy was applied with)`,
      );
  } else if (url !== undefined) {
    if (!fetchableKeyUrl(url))
      throw new SettingsError(`${where}.jwks_url must be an https:// (or file://, or http:// on this machine) URL`);
    keys = createRemoteJWKSet(new URL(url), { timeoutDuration: JWKS_TIMEOUT_MS });
  } else {
    if (!fetchableKeyUrl(issuer))
      throw new SettingsError(
        `${where}: without jwks_url or jwks_file, the key set is found through the issuer's OpenID discovery, and issuer must then be an https:// (or http:// on this machine) URL`,
      );
    keys = discoveredKeySet(issuer);
  }
  const claimAgentId = text('claim_agent_id');
  const claimGroups = text('claim_groups');
  return {
    name: identity.name,
    keys,
    ...(issuer ? { issuer } : {}),
    ...(audience ? { audience } : {}),
    ...(claimAgentId ? { claimAgentId } : {}),
    ...(claimGroups ? { claimGroups } : {}),
  };
}

/**
 * Delegation tokens. When an agent's `delegate/<worker>` call is permitted under a `delegate`
 * grant, the daemon mints a token for the worker: signed with the stack's delegation key (HS256),
 * naming the worker, the chain of agents the work came through and when, and expiring with the
 * grant's ttl (default 1 h). The worker sends it as `delegation_token`; the daemon verifies it and
 * the engine then checks each hop's grant and caps the effect at its ceiling, and the worker's
 * records carry the `delegation_chain`. A chain cannot be stated, only proven: a token that fails
 * any check denies the call with IDENTITY_UNVERIFIED.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import type { DelegationHop } from '@faramesh/protocol';
import { writeDurable } from '@faramesh/audit';
import { MAX_DELEGATION_HOPS } from '@faramesh/engine';

const ISSUER = 'faramesh-daemon';
/** Agents a call may have come through. */
export const MAX_CHAIN = MAX_DELEGATION_HOPS;
/** A grant without a ttl: how long its token lasts. */
const DEFAULT_TTL_S = 3600;

/** A proven chain, with when its token expires (seconds since the epoch); or why it is refused. */
export type ChainOutcome = { chain: DelegationHop[]; expiresS: number } | { refused: string };

export class DelegationTokens {
  private constructor(private readonly key: Uint8Array) {}

  /** The stack's key (created on first use, 0600), or a key for this run only (`faramesh dev`). */
  static open(keyFile: string | undefined): DelegationTokens {
    if (!keyFile) return new DelegationTokens(randomBytes(32));
    if (!existsSync(keyFile)) {
      mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
      writeDurable(dirname(keyFile), basename(keyFile), randomBytes(32).toString('base64url'), 0o600);
    }
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64url');
    // A damaged key (an empty or cut file) would sign nothing: every permitted delegation would be
    // recorded as a permit and then fail to answer. The daemon does not start on it.
    if (key.length < 32)
      throw new Error(
        `the delegation key ${keyFile} is damaged (${key.length} bytes, not 32): remove it for a new one (tokens already issued stop verifying)`,
      );
    return new DelegationTokens(key);
  }

  /**
   * A token for `to`, extending the chain the delegating call itself came through. `notAfterS`: when
   * the token that call came with expires. The new one expires no later: a worker re-delegating
   * before its own token runs out must not hand on authority that outlives it (a cycle of hops
   * would otherwise keep the first grant alive for ever).
   */
  mint(
    from: string,
    to: string,
    chain: readonly DelegationHop[],
    ttlS: number | undefined,
    nowMs: number,
    notAfterS = Infinity,
  ): Promise<string> {
    const issuedAt = Math.floor(nowMs / 1000);
    return new SignJWT({ chain: [...chain, { agent_id: from, issued_at: new Date(nowMs).toISOString() }] })
      .setProtectedHeader({ alg: 'HS256', typ: 'faramesh-delegation' })
      .setIssuer(ISSUER)
      .setSubject(to)
      .setIssuedAt(issuedAt)
      .setExpirationTime(Math.min(issuedAt + (ttlS ?? DEFAULT_TTL_S), notAfterS))
      .sign(this.key);
  }

  async verify(token: string, agent: string, nowMs: number): Promise<ChainOutcome> {
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        algorithms: ['HS256'],
        typ: 'faramesh-delegation',
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (e) {
      return { refused: `the delegation_token did not verify: ${(e as Error).message}` };
    }
    if (claims.sub !== agent) return { refused: `the delegation_token was issued to ${JSON.stringify(claims.sub)}, not agent ${agent}` };
    const chain = claims.chain;
    if (!Array.isArray(chain) || chain.length === 0 || chain.length > MAX_CHAIN || !chain.every(isHop))
      return { refused: 'the delegation_token carries no valid chain' };
    return { chain, expiresS: claims.exp! };
  }
}

function isHop(h: unknown): h is DelegationHop {
  const hop = h as DelegationHop;
  return (
    typeof h === 'object' &&
    h !== null &&
    typeof hop.agent_id === 'string' &&
    (hop.issued_at === undefined || typeof hop.issued_at === 'string')
  );
}

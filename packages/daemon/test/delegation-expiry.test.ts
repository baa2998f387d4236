/**
 * A token minted for a call that itself came with a delegation token expires no later than that
 * one: re-delegating just before a token runs out (onward, or round a cycle of agents) must not
 * keep the first grant's authority alive past its own expiry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DelegationTokens } from '../src/core/delegation.js';

test('a re-delegated token expires no later than the token of the call that minted it', async () => {
  const tokens = DelegationTokens.open(undefined);
  const t0 = Date.parse('2026-11-24T12:00:00Z');
  const first = await tokens.mint('lead', 'worker', [], undefined, t0);
  // 58 minutes on, the worker delegates onward under a grant without a ttl (1 h by default).
  const later = t0 + 58 * 60_000;
  const proven = await tokens.verify(first, 'worker', later);
  assert.ok('chain' in proven, JSON.stringify(proven));
  assert.equal(proven.expiresS, t0 / 1000 + 3600);
  const onward = await tokens.mint('worker', 'helper', proven.chain, undefined, later, proven.expiresS);
  const justBefore = await tokens.verify(onward, 'helper', t0 + 59 * 60_000);
  assert.ok('chain' in justBefore);
  assert.deepEqual(
    justBefore.chain.map((h) => h.agent_id),
    ['lead', 'worker'],
  );
  const past = await tokens.verify(onward, 'helper', t0 + 61 * 60_000);
  assert.ok('refused' in past, 'the onward token ends with the one it came from');
  assert.match(past.refused, /exp/);
  // A grant's own shorter ttl still applies.
  const short = await tokens.mint('worker', 'helper', proven.chain, 60, later, proven.expiresS);
  assert.ok('refused' in (await tokens.verify(short, 'helper', later + 61_000)));
});

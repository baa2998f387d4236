import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, policy, Session } from './support.js';

test('retry_after_seconds waits for every empty bucket, not only the first limit listed', () => {
  const s = new Session(policy(agent('  rules {\n    permit x\n  }\n  rate_limit "x": 1 per second\n  rate_limit "*": 2 per day')));
  assert.equal(s.call({ tool: 'x' }).effect, 'PERMIT');
  assert.equal(s.advance(1).call({ tool: 'x' }).effect, 'PERMIT');
  // Both buckets are empty: the per-second one has a token in 0.5 s, the per-day one in about 12 h.
  const d = s.advance(0.5).call({ tool: 'x' });
  assert.equal(d.code, 'RATE_EXCEEDED');
  const wait = (d.resolution as { retry_after_seconds: number }).retry_after_seconds;
  assert.ok(wait > 43_000, `retry after ${wait}s`);
  assert.match(d.human_message ?? '', /2\/day/);
  // Waiting as told is enough.
  assert.equal(s.advance(wait).call({ tool: 'x' }).effect, 'PERMIT');
});

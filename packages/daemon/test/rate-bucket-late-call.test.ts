/**
 * A call that awaits a token check before it is decided is decided at the time it is decided: calls
 * decided meanwhile refilled its rate bucket up to now, and a bucket set back to the time the late
 * call arrived would refill that interval again for the next call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionService } from './decision-service-fixture.js';

const POLICY = `agent "bot" {
  default deny
  rules {
    permit t/*
  }
  rate_limit "t/*": 6 per minute
}
`;

test('a call held by its token check does not wind its rate bucket back for the calls after it', async () => {
  let now = 1_000_000;
  let release!: () => void;
  const checked = new Promise<void>((resolve) => (release = resolve));
  // A principal token whose check takes a while (a key set fetched, say); plain calls await nothing.
  const principals = {
    resolve: (p: { principal_token?: string }) => (p.principal_token ? checked.then(() => ({})) : {}),
  };
  const { log, decisions } = await decisionService(POLICY, { now: () => now }, principals);
  const call = (params: object = {}) =>
    decisions.govern({ agent_id: 'bot', tool: 't/x', args: {}, ...params } as never, 't/x').then((r) => r.effect);
  try {
    for (let i = 0; i < 6; i++) assert.equal(await call(), 'PERMIT'); // t = 0: the bucket emptied
    now += 5_000;
    const late = call({ principal_token: 'slow' }); // arrives at t = 5 s, decided later
    now += 15_000;
    assert.equal(await call(), 'PERMIT'); // t = 20 s: refilled by two (one a 10 s), one taken
    release();
    assert.equal(await late, 'PERMIT'); // decided at 20 s: the other one
    // Nothing refilled since: a bucket dated back to 5 s would refill 15 s again, and permit.
    assert.equal(await call(), 'DENY');
  } finally {
    await log.close();
  }
});

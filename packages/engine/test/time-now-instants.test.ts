import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// `time.now` is an RFC 3339 string; compared with a timestamp, the instants are compared, not the
// spellings (another offset, no fraction of a second).
test('time.now against a timestamp with an offset compares instants', () => {
  const p = policy(agent(`  rules {\n    deny deploy if time.now >= "2026-06-01T00:00:00+09:00"\n    permit deploy\n  }`));
  const s = new Session(p);
  s.now = Date.parse('2026-05-31T14:59:59Z');
  assert.equal(outcome(s.call({ tool: 'deploy' })), 'PERMIT');
  s.now = Date.parse('2026-05-31T20:00:00Z'); // 05:00 on June 1st in Tokyo: the freeze has begun
  assert.equal(outcome(s.call({ tool: 'deploy' })), 'DENY/POLICY_DENY');
});

test('time.now against a timestamp without a fraction of a second', () => {
  const p = policy(
    agent(
      `  rules {\n    deny deploy if time.now >= "2026-06-01T00:00:00Z"\n    permit deploy\n    permit early if "2026-06-01T00:00" > time.now\n  }`,
    ),
  );
  const s = new Session(p);
  s.now = Date.parse('2026-06-01T00:00:00.500Z');
  assert.equal(outcome(s.call({ tool: 'deploy' })), 'DENY/POLICY_DENY');
  s.now = Date.parse('2026-05-31T23:59:59.999Z');
  assert.equal(outcome(s.call({ tool: 'deploy' })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'early' })), 'PERMIT');
});

test('time.now == and in, and strings that are not timestamps, as written', () => {
  const p = policy(
    agent(
      `  rules {\n    permit a if time.now == "2026-06-01T09:00:00+09:00"\n    permit b if time.now in ["2026-06-01T00:00:00Z"]\n    permit c if time.now startsWith "2026-06-01T00"\n    permit d if time.now >= "2026-06-01"\n  }`,
    ),
  );
  const s = new Session(p);
  s.now = Date.parse('2026-06-01T00:00:00Z');
  for (const tool of ['a', 'b', 'c', 'd']) assert.equal(outcome(s.call({ tool })), 'PERMIT', tool);
});

test('time.now against an impossible date is not rolled over into the next month', () => {
  // 2026-02-30 names no instant: Date.parse would read it as March 2nd, extending a February freeze.
  const p = policy(agent(`  rules {\n    deny deploy if time.now < "2026-02-30T00:00:00Z"\n    permit deploy\n  }`));
  const s = new Session(p);
  s.now = Date.parse('2026-02-28T12:00:00Z');
  assert.equal(outcome(s.call({ tool: 'deploy' })), 'DENY/POLICY_DENY');
  s.now = Date.parse('2026-03-01T12:00:00Z');
  assert.equal(outcome(s.call({ tool: 'deploy' })), 'PERMIT');
  const q = policy(agent(`  rules {\n    deny deploy if time.now < "2026-06-01T24:00:00Z"\n    permit deploy\n  }`));
  const r = new Session(q);
  r.now = Date.parse('2026-06-02T00:30:00Z');
  assert.equal(outcome(r.call({ tool: 'deploy' })), 'PERMIT');
});

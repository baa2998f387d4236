/**
 * Session ids are the caller's to choose. Retention bounds an agent's sessions by time only: an
 * agent naming a new session for every call would otherwise grow the state (and its snapshot) by
 * an entry a call for 30 days. pruneState keeps each agent's most recently used ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SESSIONS_PER_AGENT, pruneState } from '../src/index.js';
import { agent, outcome, policy, Session } from './support.js';

const P = policy(
  agent(
    '  rules {\n    permit x\n  }\n  session {\n    max_duration = "30m"\n  }\n' +
      '  budget session {\n    max_calls 3\n    on_exceed deny\n  }',
  ),
);

const sessions = (s: Session) => Object.keys(s.state.sessions).length;
const counters = (s: Session) => Object.keys(s.state.budgets).filter((k) => k.split('\u0000')[2]!.startsWith('s:')).length;

test('an agent naming a new session for each call keeps at most the cap, the newest ones', () => {
  const s = new Session(P);
  for (let i = 0; i < 50; i++) {
    assert.equal(outcome(s.call({ tool: 'x', session_id: `s-${i}` })), 'PERMIT');
    s.advance(1);
  }
  assert.equal([sessions(s), counters(s)].join(), '50,50');
  assert.equal(pruneState(s.state, s.now, 20), 60);
  assert.equal([sessions(s), counters(s)].join(), '20,20');
  // The most recently used stay, and still count: s-49 has two calls left of its three.
  assert.ok(Object.keys(s.state.sessions).every((k) => Number(k.split('-').pop()) >= 30));
  assert.equal(outcome(s.call({ tool: 'x', session_id: 's-49' })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'x', session_id: 's-49' })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'x', session_id: 's-49' })), 'DENY/BUDGET_EXCEEDED');
});

test('the default cap holds with no time passing', () => {
  const s = new Session(P);
  for (let i = 0; i < MAX_SESSIONS_PER_AGENT + 500; i++) s.call({ tool: 'x', session_id: `s-${i}` });
  pruneState(s.state, s.now);
  assert.equal(sessions(s), MAX_SESSIONS_PER_AGENT);
  assert.equal(counters(s), MAX_SESSIONS_PER_AGENT);
});

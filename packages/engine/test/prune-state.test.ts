/**
 * A daemon runs for months: its engine state must not keep every UTC day it has seen, nor a rate
 * bucket per limit long refilled. pruneState drops only what can no longer change a decision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropSessions, pruneState, SESSION_RETENTION_MS } from '../src/index.js';
import { agent, outcome, policy, Session } from './support.js';

const P = policy(
  agent(
    '  rules {\n    permit x\n  }\n  rate_limit "x": 3 per minute\n  completion_gate {\n    require "budget_under_limit"\n  }\n' +
      '  budget daily {\n    max_calls 4\n    on_exceed deny\n  }\n  budget session {\n    max_calls 3\n    daily $5\n    on_exceed deny\n  }',
  ),
);

test('a year of days leaves one day of budget counters, and no refilled bucket', () => {
  const s = new Session(P);
  for (let day = 0; day < 365; day++) {
    assert.equal(outcome(s.call({ tool: 'x', cost_usd: 1, session_id: `day-${day}` })), 'PERMIT');
    s.advance(86_400);
    pruneState(s.state, s.now);
  }
  // Without pruning: 730 day counters (`daily`, and the session budget's daily cap), two per day.
  const days = Object.keys(s.state.budgets).filter((k) => !k.split('\u0000')[2]!.startsWith('s:'));
  assert.ok(days.length <= 2, `${days.length} day counters kept`);
  // A session's own counter stays while the session is in use: of a year of one-day sessions, the last 30 days'.
  assert.equal(Object.keys(s.state.budgets).length - days.length, SESSION_RETENTION_MS / 86_400_000 - 1);
  assert.equal(Object.keys(s.state.buckets).length, 0);
});

test('pruning never changes a decision: the same calls decide alike with and without it', () => {
  const kept = new Session(P);
  const pruned = new Session(P);
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let i = 0; i < 3000; i++) {
    // Some 25 days in all: no session goes unused for SESSION_RETENTION_MS, which is when pruning may change a decision.
    const step = [1, 5, 20, 61, 3600][rand(5)]!;
    kept.advance(step);
    pruned.advance(step);
    const req = { tool: 'x', cost_usd: rand(3), session_id: `s${rand(4)}` };
    const a = outcome(kept.call(req));
    const b = outcome(pruned.call(req));
    assert.equal(b, a, `call ${i}`);
    assert.equal(pruned.complete(req.session_id).effect, kept.complete(req.session_id).effect, `completion ${i}`);
    pruneState(pruned.state, pruned.now);
  }
  assert.ok(Object.keys(pruned.state.budgets).length < Object.keys(kept.state.budgets).length);
});

test("what is still current stays: today's counters, a bucket within its window, every session's counter", () => {
  const s = new Session(P);
  for (let i = 0; i < 3; i++) assert.equal(outcome(s.call({ tool: 'x', session_id: 'a' })), 'PERMIT');
  pruneState(s.state, s.now);
  assert.equal(outcome(s.call({ tool: 'x', session_id: 'b' })), 'DENY/RATE_EXCEEDED');
  s.advance(86_400 * 3);
  pruneState(s.state, s.now);
  // Session a used its 3 calls days ago: its ceiling never resets.
  assert.equal(outcome(s.call({ tool: 'x', session_id: 'a' })), 'DENY/BUDGET_EXCEEDED');
});

test('dropSessions forgets the sessions that ended, and only their own counters and facts', () => {
  const bounded = policy(
    agent(
      '  rules {\n    permit x\n  }\n  session {\n    idle_timeout "1h"\n  }\n  budget session {\n    max_calls 3\n    daily $5\n    on_exceed deny\n  }',
    ),
  );
  const s = new Session(bounded);
  for (const id of ['mcp-gone', 'mcp-live', 'sdk']) assert.equal(outcome(s.call({ tool: 'x', cost_usd: 1, session_id: id })), 'PERMIT');
  const before = Object.keys(s.state.budgets).length;
  assert.equal(
    dropSessions(s.state, (id) => id === 'mcp-gone'),
    2,
    'its session counter and its session facts',
  );
  assert.equal(Object.keys(s.state.budgets).length, before - 1);
  const sessions = Object.keys(s.state.sessions).map((k) => k.split('\u0000')[1]);
  assert.deepEqual(sessions.sort(), ['mcp-live', 'sdk']);
  // The day's cap across sessions still counts what the ended session spent.
  assert.equal(outcome(s.call({ tool: 'x', cost_usd: 2, session_id: 'sdk' })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'x', cost_usd: 1, session_id: 'sdk' })), 'DENY/BUDGET_EXCEEDED');
});

test('a session unused for SESSION_RETENTION_MS is forgotten: its counter and its facts; one in use is kept', () => {
  const bounded = policy(
    agent(
      '  rules {\n    permit x\n  }\n  session {\n    idle_timeout "90d"\n  }\n  budget session {\n    max_calls 2\n    on_exceed deny\n  }',
    ),
  );
  const s = new Session(bounded);
  for (let i = 0; i < 2; i++) assert.equal(outcome(s.call({ tool: 'x', session_id: 'old' })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'x', session_id: 'old' })), 'DENY/BUDGET_EXCEEDED');
  // An older log's counter, without the time it was last used: kept, its age unknown.
  s.state.budgets['bot\u0000session\u0000s:legacy'] = { spent_usd: 0, calls: 2 };
  s.advance(SESSION_RETENTION_MS / 1000 - 60);
  assert.equal(outcome(s.call({ tool: 'x', session_id: 'recent' })), 'PERMIT');
  pruneState(s.state, s.now);
  assert.equal(outcome(s.call({ tool: 'x', session_id: 'old' })), 'DENY/BUDGET_EXCEEDED', 'not yet');
  s.advance(60);
  pruneState(s.state, s.now);
  const ids = (table: object) => Object.keys(table).map((k) => k.split('\u0000').at(-1));
  assert.deepEqual(ids(s.state.budgets).sort(), ['s:legacy', 's:recent']);
  assert.deepEqual(ids(s.state.sessions), ['recent']);
  // Used again, the forgotten id starts afresh, as a new id would.
  assert.equal(outcome(s.call({ tool: 'x', session_id: 'old' })), 'PERMIT');
});

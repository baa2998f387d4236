import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// `query` and `headers` are the proxied request's. A call that is not HTTP (the SDK's, the MCP
// proxy's) has neither, and a database or search tool's argument is very often named `query`: a
// deny on it must read that argument, as `host` and `path` read theirs, or it never fires.
const p = policy(
  agent(`  rules {
    deny   db/run  if query contains "DROP"
    permit db/run
    deny   db/sql  if query.sql contains "DROP"
    permit db/sql
    defer  web/get if headers.authorization != nil
    permit web/get
  }`),
);

test('a non-HTTP call: query and headers are the arguments of those names', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'db/run', args: { query: 'DROP TABLE users' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'db/sql', args: { query: { sql: 'DROP TABLE users' } } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'db/run', args: { query: 'SELECT 1' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'web/get', args: { headers: { Authorization: 'Bearer x' } } })), 'DEFER/POLICY_DEFER');
  assert.equal(outcome(s.call({ tool: 'web/get', args: { headers: { accept: 'text/html' } } })), 'PERMIT');
});

test('an HTTP call reads its own query and headers, never an argument of that name', () => {
  const s = new Session(p);
  const http = { host: 'db.example', method: 'POST', path: '/run', query: { sql: 'SELECT 1' }, headers: {} };
  assert.equal(outcome(s.call({ tool: 'db/sql', http, args: { query: { sql: 'DROP' } } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'db/sql', http: { ...http, query: { sql: 'DROP x' } } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'web/get', http: { ...http, headers: { AUTHORIZATION: 'x' } } })), 'DEFER/POLICY_DEFER');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// `.env/` is the file `.env` to a tool that resolves its argument (Node's path.resolve, Python's
// pathlib, the MCP filesystem server): a trailing `/` must not carry a path past a deny that names it.
const p = policy(
  agent(`  rules {
    deny   fs/write if path == ".env"
    deny   fs/write if path in ["/etc/passwd"]
    deny   fs/write if ["./id_rsa"] contains path
    deny   fs/write path "/etc/shadow"
    deny   fs/write path "secrets/*"
    deny   fs/read  if path endsWith ".pem"
    deny   fs/read  if path matches "\\\\.key$"
    permit fs/write
    permit fs/read
    permit fs/open  if path == "./work/a.txt"
    permit fs/put   if path startsWith "./work/"
    permit fs/list  if path endsWith "/"
  }`),
);

test('a trailing slash does not carry a path argument past a deny that names the file', () => {
  const s = new Session(p);
  for (const path of ['.env/', './.env/', '/etc/passwd/', 'id_rsa/', '/etc/shadow/', 'secrets/token/', './secrets/token/'])
    assert.equal(outcome(s.call({ tool: 'fs/write', args: { path } })), 'DENY/POLICY_DENY', path);
  for (const path of ['server.pem/', 'server.key/'])
    assert.equal(outcome(s.call({ tool: 'fs/read', args: { path } })), 'DENY/POLICY_DENY', path);
  // Other files, with or without the slash, still pass.
  assert.equal(outcome(s.call({ tool: 'fs/write', args: { path: 'notes/' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/read', args: { path: 'server.txt/' } })), 'PERMIT');
});

test('the same file spelt with a trailing slash is permitted as without it, and a prefix keeps its slash', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'fs/open', args: { path: 'work/a.txt/' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/open', args: { path: 'work/a.txt' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/put', args: { path: 'work/' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/put', args: { path: 'work' } })), 'DENY/POLICY_DENY');
  // `endsWith "/"` still reads the slash as it was sent.
  assert.equal(outcome(s.call({ tool: 'fs/list', args: { path: 'work/' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/list', args: { path: 'work' } })), 'DENY/POLICY_DENY');
});

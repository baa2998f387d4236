import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// A rule on `path` judges where a path argument leads, not how the model spelt it: the documented
// exception `permit fs/write if path startsWith "./"` above `deny! fs/write` must not let
// `./drafts/../../.ssh/authorized_keys` through, nor `/tmp/../etc` slip past a deny on `/etc`.
const p = policy(
  agent(`  rules {
    deny   fs/read  if path startsWith "/etc/"
    deny   fs/read  path "/root/**"
    permit fs/read
    permit fs/write if path matches "^\\\\./drafts/"
    deny!  fs/write
  }`),
);

test('dot segments and doubled slashes in a path argument are resolved before rules read it', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'fs/write', args: { path: './drafts/../../.ssh/authorized_keys' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'fs/write', args: { path: './drafts/./../notes' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'fs/read', args: { path: '/tmp/../etc/shadow' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'fs/read', args: { path: '//etc/shadow' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'fs/read', args: { path: '/./root/.ssh/id_rsa' } })), 'DENY/POLICY_DENY');
  assert.equal(outcome(s.call({ tool: 'fs/read', args: { path: '/srv//../root/x' } })), 'DENY/POLICY_DENY');
});

test('paths already in plain form decide as before', () => {
  const s = new Session(p);
  assert.equal(outcome(s.call({ tool: 'fs/write', args: { path: './drafts/a.md' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/write', args: { path: './drafts/x/../a.md' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/read', args: { path: '/srv/www/index.html' } })), 'PERMIT');
  // The proxies resolve their own paths: an HTTP path is read as the proxy gave it.
  assert.equal(
    outcome(s.call({ tool: 'fs/read', http: { host: 'h', method: 'GET', path: '/srv/x' }, args: { path: '/etc/x' } })),
    'PERMIT',
  );
});

// A relative path has two spellings, `./x` and `x` (and `a/../x`): a rule written on either meets all.
const relative = policy(
  agent(`  rules {
    deny   fs/write if path startsWith "./.git/"
    deny   fs/write if path startsWith "secrets/"
    deny   fs/write if path == "notes/private.md"
    deny   fs/write if path matches "^keys/"
    deny   fs/write path "vault/*"
    permit fs/write if path startsWith "./"
    permit fs/read  if path != "./a.md"
  }`),
);

test('a relative path meets rules in either spelling: ./x, x and a/../x are one file', () => {
  const s = new Session(relative);
  const write = (path: string) => outcome(s.call({ tool: 'fs/write', args: { path } }));
  for (const path of [
    './.git/config',
    '.git/config',
    'x/../.git/config',
    'secrets/k',
    './secrets/k',
    'notes/private.md',
    './notes//private.md',
    'keys/id',
    './keys/id',
    'vault/a',
    './vault/a',
  ])
    assert.equal(write(path), 'DENY/POLICY_DENY', path);
  assert.equal(write('docs/readme.md'), 'PERMIT', 'inside the working directory, spelt without ./');
  assert.equal(write('./docs/readme.md'), 'PERMIT');
  // Elsewhere is not the working directory, however it is spelt.
  for (const path of ['~/x', '$HOME/x', '%USERPROFILE%\\x', 'C:\\x', '../x', '/x', 'a/../../x'])
    assert.equal(write(path), 'DENY/POLICY_DENY', path);
  // A negated comparison reads one spelling: a.md is ./a.md.
  const read = (path: string) => outcome(s.call({ tool: 'fs/read', args: { path } }));
  assert.equal(read('a.md'), 'DENY/POLICY_DENY');
  assert.equal(read('./a.md'), 'DENY/POLICY_DENY');
  assert.equal(read('b.md'), 'PERMIT');
});

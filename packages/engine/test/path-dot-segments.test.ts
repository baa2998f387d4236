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

// What a path is compared with reads as a path wherever it comes from: a selector's list, another
// argument, a list that `contains` it. Read as sent, `secrets/key` would miss `./secrets/key`.
test('a path compared with a selector, an argument or a list of paths meets them in its spelling', () => {
  const q = policy(
    agent(`  selector "blocked" {
    source = "https://idp/blocked"
    on_unavailable = "deny"
  }
  rules {
    deny fs/read  if path in blocked
    deny fs/read  if ["secrets/key", ".env"] contains path
    deny fs/copy  if path == args.to
    deny fs/write if path startsWith args.base
    permit fs/*
  }`),
  );
  const s = new Session(q);
  s.state.selectors['bot\u0000blocked'] = { value: ['vault/key', '~/x'], fetched_ms: s.now };
  const call = (tool: string, args: Record<string, unknown>) => outcome(s.call({ tool, args }));
  for (const path of ['vault/key', './vault/key', 'a/../vault/key', 'secrets/key', './.env'])
    assert.equal(call('fs/read', { path }), 'DENY/POLICY_DENY', path);
  assert.equal(call('fs/read', { path: './docs/x' }), 'PERMIT');
  assert.equal(call('fs/copy', { path: 'a.md', to: './a.md' }), 'DENY/POLICY_DENY');
  assert.equal(call('fs/copy', { path: 'a.md', to: 'b.md' }), 'PERMIT');
  assert.equal(call('fs/write', { path: 'out/x', base: 'out/' }), 'DENY/POLICY_DENY');
  assert.equal(call('fs/write', { path: 'docs/x', base: 'out/' }), 'PERMIT');
});

test('a path that climbs above ~, $VAR or C: names a file that depends on the tool: a deny on path applies, a permit does not', () => {
  const s = new Session(
    policy(
      agent(`  rules {
    deny   fs/write if path startsWith "secrets/"
    deny   fs/copy  path "vault/*"
    permit fs/read  if path startsWith "./"
    deny   fs/read
    permit fs/*
  }`),
    ),
  );
  for (const path of ['~/../secrets/key', '$x/../secrets/key', 'C:/../secrets/key', '~/a/../../secrets/key']) {
    assert.equal(outcome(s.call({ tool: 'fs/write', args: { path } })), 'DENY/POLICY_DENY', path);
    assert.equal(outcome(s.call({ tool: 'fs/copy', args: { path } })), 'DENY/POLICY_DENY', path);
    assert.equal(outcome(s.call({ tool: 'fs/read', args: { path } })), 'DENY/POLICY_DENY', path);
  }
  // Below its start, such a path is plain: it names a file elsewhere, which relative rules do not meet.
  assert.equal(outcome(s.call({ tool: 'fs/write', args: { path: '~/a/../secrets/key' } })), 'PERMIT');
  assert.equal(outcome(s.call({ tool: 'fs/read', args: { path: 'docs/a.md' } })), 'PERMIT');
});

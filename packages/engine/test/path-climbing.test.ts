import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agent, outcome, policy, Session } from './support.js';

// How far a path climbs is part of where it goes. Each case below reads a resolved path that a
// looser resolution would move inside a permitted place, or outside a denied one.
const p = policy(
  agent(`  rules {
    deny   fs/read if path startsWith "/etc/"
    deny   fs/read if path startsWith "~/.ssh/"
    deny   fs/read if path startsWith "./secrets/"
    permit fs/read if path startsWith "./"
    permit fs/read if path startsWith "/srv/"
  }`),
);
const read = (path: string) => outcome(new Session(p).call({ tool: 'fs/read', args: { path } }));

test('a relative path that climbs twice keeps both `..` segments', () => {
  // The second `..` climbs further out; it does not cancel the first and land in `./`.
  assert.equal(read('../../secret.txt'), 'DENY/POLICY_DENY');
  assert.equal(read('a/../../../secret.txt'), 'DENY/POLICY_DENY');
  assert.equal(read('./a/../b.txt'), 'PERMIT');
});

test('an absolute path stops at the root, as the kernel does', () => {
  // `/../etc/passwd` is `/etc/passwd`: keeping the `..` would let it past the deny on `/etc/`.
  assert.equal(read('/../etc/passwd'), 'DENY/POLICY_DENY');
  assert.equal(read('/../../srv/../etc/shadow'), 'DENY/POLICY_DENY');
  assert.equal(read('/../srv/index.html'), 'PERMIT');
});

test('a path ending in `/.` or `/..` names a directory, and keeps its trailing slash', () => {
  // `secrets/.` is the directory `./secrets/`, which a prefix `./secrets/` names.
  assert.equal(read('secrets/.'), 'DENY/POLICY_DENY');
  assert.equal(read('secrets/x/..'), 'DENY/POLICY_DENY');
  assert.equal(read('./notes/.'), 'PERMIT');
});

test('a path under the home directory keeps its start once its dot segments are resolved', () => {
  // `~/x/../.ssh/id_rsa` is `~/.ssh/id_rsa`, not a directory named `~` under the working directory.
  assert.equal(read('~/x/../.ssh/id_rsa'), 'DENY/POLICY_DENY');
  assert.equal(read('~/./.ssh/id_rsa'), 'DENY/POLICY_DENY');
});

/**
 * runtime { immutable_config }: apply runs `chattr` as the operator (root, often). An operator who
 * applies from an activated venv or an npm script in the stack has a PATH entry the agents can write
 * first: the `chattr` run must be the system's, never one an agent planted there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockSource } from '../src/commands/daemon/apply.js';

test('apply locks the policy with the system chattr, not one found first on PATH', { skip: process.platform !== 'linux' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-chattr-'));
  const source = join(dir, 'governance.fms');
  writeFileSync(source, 'agent "a" {\n  default deny\n}\n');
  // What an agent can leave in its workspace's venv: a "chattr" that notes it ran, outside the workspace.
  const marker = join(mkdtempSync(join(tmpdir(), 'fm-planted-')), 'ran');
  const bin = join(dir, 'venv', 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'chattr'), `#!/bin/sh\necho ran >> '${marker}'\n`);
  chmodSync(join(bin, 'chattr'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    lockSource(source, 'linux');
    assert.equal(existsSync(marker), false, 'a chattr the agent planted ran with the operator’s rights');
  } finally {
    process.env.PATH = path;
    spawnSync('chattr', ['-i', source]);
  }
});

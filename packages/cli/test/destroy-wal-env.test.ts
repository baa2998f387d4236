import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeStack, POLICY } from './daemon-helpers.js';

test('destroy with a wal_dir from env() that is unset here removes nothing and says why', async () => {
  const s = makeStack(POLICY.replace('wal_dir = "./wal"', 'wal_dir = env("FM_TEST_WAL")'), { FM_TEST_WAL: './mylog' });
  const bare = (...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HOME: s.dir };
    delete env.FM_TEST_WAL;
    const r = spawnSync(process.execPath, [BIN, ...args, '--dir', s.dir], { encoding: 'utf8', env });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  try {
    assert.equal(s.cli('apply').code, 0);
    await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    assert.equal(s.cli('apply', '--stop').code, 0);
    const log = join(s.dir, 'mylog');
    assert.ok(readdirSync(log).some((f) => f.endsWith('.wal')));
    const r = bare('destroy', '--yes');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /FM_TEST_WAL is not set/);
    assert.ok(existsSync(join(s.dir, '.faramesh', 'keys', 'audit.pub')), 'the keys that verify the log are kept');
    assert.ok(existsSync(join(s.dir, '.faramesh', 'governance.compiled.json')), 'nothing removed');
    // With the variable as apply had it, destroy finds the log and removes it.
    const all = s.cli('destroy', '--yes');
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /WAL removed/);
    assert.ok(!existsSync(log));
  } finally {
    s.stop();
  }
});

test('destroy is not refused for an unset env() in a runtime field other than wal_dir', async () => {
  const s = makeStack(POLICY.replace('wal_dir = "./wal"', 'wal_dir = "./wal"\n  mode = env("FM_TEST_MODE")'), { FM_TEST_MODE: 'enforce' });
  try {
    assert.equal(s.cli('apply').code, 0);
    await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} });
    assert.equal(s.cli('apply', '--stop').code, 0);
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HOME: s.dir };
    delete env.FM_TEST_MODE;
    const r = spawnSync(process.execPath, [BIN, 'destroy', '--yes', '--dir', s.dir], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /WAL removed/);
    assert.ok(!existsSync(join(s.dir, 'wal')));
  } finally {
    s.stop();
  }
});

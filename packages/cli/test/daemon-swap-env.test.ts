/**
 * A hot swap whose runtime block reads env() that the running daemon's environment lacks is refused
 * naming the variable (and apply's hint that this shell has it), not as a change of wal_dir and socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, RUNTIME, withStack } from './daemon-helpers.js';

const policy = (extra: string) => `${RUNTIME.replace('}', `${extra}}`)}
agent "bot" {
  default deny
  rules { deny x }
}
`;

test('a swap reading an env() the daemon does not have names the variable', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    writeFileSync(join(s.dir, 'governance.fms'), policy('  mode = env("FM_SWAP_MODE_TEST")\n'));
    const r = spawnSync(process.execPath, [BIN, 'apply', '--dir', s.dir], {
      encoding: 'utf8',
      env: { ...process.env, HOME: s.dir, NO_COLOR: '1', FM_SWAP_MODE_TEST: 'audit' },
    });
    assert.equal(r.status, 1, r.stdout);
    assert.doesNotMatch(r.stderr, /wal_dir|runtime\.socket/, 'neither changed');
    assert.match(r.stderr, /environment variable FM_SWAP_MODE_TEST is not set/);
    assert.match(
      r.stderr,
      /FM_SWAP_MODE_TEST is set in this shell, but the running daemon reads env\(\) from the environment it started with/,
    );
    assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'x', args: {} })).effect, 'DENY');
  }, policy(''));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { alive, appliedStack, POLICY, until } from './daemon-helpers.js';

// A daemon that cannot answer on its operator socket (the file removed, or every descriptor in use)
// still runs and still decides calls: `apply --stop` must stop it, not say that none runs.
test('apply --stop stops a running daemon whose operator socket is gone, found by its pid file', async () => {
  const s = appliedStack(POLICY);
  try {
    const pid = s.pid();
    unlinkSync(join(s.dir, '.faramesh', 'runtime', 'operator.sock'));
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect, 'PERMIT');
    const stopped = s.cli('apply', '--stop');
    assert.doesNotMatch(stopped.stdout, /no daemon is running/);
    assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
    await until('the daemon to exit', () => !alive(pid), 5000);
  } finally {
    s.stop();
  }
});

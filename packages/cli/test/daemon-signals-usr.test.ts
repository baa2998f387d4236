import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, appliedStack, POLICY, sleep, until } from './daemon-helpers.js';

// Node starts its inspector (a debugger on 127.0.0.1:9229, open to every local user) on SIGUSR1 and
// dies on SIGUSR2. A logrotate script that signals the daemon must neither hand its process to
// whoever connects first nor stop it without a drain.
test('SIGUSR1 and SIGUSR2 are logged and ignored: no inspector opens, and the daemon serves on', async () => {
  const s = appliedStack(POLICY);
  const log = () => readFileSync(join(s.dir, '.faramesh', 'runtime', 'daemon.log'), 'utf8');
  try {
    const pid = s.pid();
    process.kill(pid, 'SIGUSR1');
    await until('SIGUSR1 to be logged', () => log().includes('SIGUSR1 ignored'), 5000);
    process.kill(pid, 'SIGUSR2');
    await until('SIGUSR2 to be logged', () => log().includes('SIGUSR2 ignored'), 5000);
    await sleep(200);
    assert.ok(alive(pid), 'the daemon is still running');
    assert.doesNotMatch(log(), /Debugger listening/);
    assert.equal((await s.govern({ agent_id: 'bot', tool: 'ticket', operation: 'read', args: {} })).effect, 'PERMIT');
  } finally {
    s.cli('apply', '--stop');
    s.stop();
  }
});

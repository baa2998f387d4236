import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, withStack } from './daemon-helpers.js';

// The pid file is written once the daemon is READY, its sockets already serving. A write that fails
// there (a full disk, no file descriptor left) once left that daemon running with its signal handlers
// removed: SIGHUP (which the daemon must ignore) or SIGTERM then ended it undrained, its sockets left behind.
test('a daemon that cannot write its pid file once READY drains and exits 1, rather than serve on unguarded', async () => {
  await withStack(async (s) => {
    assert.equal(s.cli('apply').code, 0);
    assert.equal(s.cli('apply', '--stop').code, 0);
    // A pid file that cannot be written: a link into a directory that does not exist.
    symlinkSync(join(s.dir, 'no-such-dir', 'daemon.pid'), join(s.dir, '.faramesh', 'runtime', 'daemon.pid'));
    const child = s.spawnCli('serve');
    let said = '';
    child.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    const code = await Promise.race([exited, sleep(20_000).then(() => 'still running')]);
    if (code === 'still running') child.kill('SIGKILL');
    assert.match(said, /failed to start: ENOENT/);
    assert.equal(code, 1, said);
    assert.match(said, /lifecycle DRAINING/);
    assert.equal(existsSync(s.socket), false, 'its agent socket is removed');
  });
});

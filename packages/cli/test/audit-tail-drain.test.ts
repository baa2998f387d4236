/**
 * faramesh audit tail, following through a daemon that answers its long polls at once with nothing
 * (as a draining daemon does until its operator socket closes), asks again a moment later: it does
 * not loop on the socket, burning a core on both sides, for the whole drain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stackPaths } from '@faramesh/daemon/client';
import { BIN } from './daemon-helpers.js';

test('a tail whose long polls come back empty at once does not spin', { skip: process.platform === 'win32' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tail-drain-'));
  const socket = stackPaths(dir).operatorSocket;
  mkdirSync(dirname(socket), { recursive: true });
  let polls = 0;
  const server = createServer((c) => {
    // The tail killed at the end may leave a reply unread: that is no failure of the test.
    c.on('error', () => {});
    c.setEncoding('utf8');
    let line = '';
    c.on('data', (d: string) => {
      line += d;
      if (!line.includes('\n')) return;
      const q = JSON.parse(line) as { method: string; params?: { wait_ms?: number } };
      if (q.params?.wait_ms) polls++;
      c.end(`${JSON.stringify({ ok: true, result: { records: [], next: 0 } })}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const tail = spawn(process.execPath, [BIN, 'audit', 'tail', '--stack', dir, '--limit', '0'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok(polls > 0, 'the tail followed');
    assert.ok(polls <= 20, `${polls} long polls in 2 s`);
  } finally {
    tail.kill();
    await new Promise((r) => (tail.exitCode !== null || tail.signalCode !== null ? r(undefined) : tail.once('exit', r)));
    server.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineServer } from '../src/wire/line-server.js';
import { Lifecycle } from '../src/lifecycle.js';

const socketPath = () => join(mkdtempSync(join(tmpdir(), 'fm-ls-')), 's.sock');

function exchange(path: string, send: (s: ReturnType<typeof createConnection>) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let data = '';
    s.on('connect', () => send(s));
    s.on('data', (d) => (data += d.toString()));
    s.on('error', reject);
    s.on('close', () => resolve(data));
  });
}

test('a slow client is answered with an error and cut off; an oversized request too; the server keeps serving', async () => {
  const path = socketPath();
  const server = new LineServer({ handle: async (l) => `echo ${l}`, refuse: (why) => `refused: ${why}`, timeoutMs: 150, maxBytes: 64 });
  await server.listen(path, 0o600);
  assert.equal(await exchange(path, () => {}), 'refused: the request did not arrive within 150 ms\n');
  assert.equal(await exchange(path, (s) => s.write('x'.repeat(100))), 'refused: the request exceeds 64 bytes\n');
  // A client still pushing megabytes when refused reads the refusal, not a reset.
  assert.equal(
    await exchange(path, (s) => {
      for (let i = 0; i < 16; i++) s.write(Buffer.alloc(256 << 10, 0x78));
    }),
    'refused: the request exceeds 64 bytes\n',
  );
  assert.equal(await exchange(path, (s) => s.write('hello\n')), 'echo hello\n');
  // A request split across writes, and one ended by a half-close instead of a newline.
  assert.equal(
    await exchange(path, (s) => {
      s.write('hel');
      setTimeout(() => s.write('lo\nignored'), 20);
    }),
    'echo hello\n',
  );
  assert.equal(await exchange(path, (s) => s.end('bye')), 'echo bye\n');
  await server.close();
});

test('close waits for requests being answered and drops connections still sending', async () => {
  const path = socketPath();
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const server = new LineServer({ handle: async (l) => (await gate, `done ${l}`), refuse: (why) => why });
  await server.listen(path, 0o600);
  const answered = exchange(path, (s) => s.write('a\n'));
  const partial = exchange(path, (s) => s.write('never finished'));
  await new Promise((r) => setTimeout(r, 50));
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, false, 'still answering');
  release();
  await closing;
  assert.equal(await answered, 'done a\n');
  assert.equal(await partial, '');
});

test('a socket path in use by a live server is refused; a stale one is replaced', async () => {
  const path = socketPath();
  const first = new LineServer({ handle: async () => 'one', refuse: (w) => w });
  await first.listen(path, 0o600);
  const second = new LineServer({ handle: async () => 'two', refuse: (w) => w });
  await assert.rejects(second.listen(path, 0o600), /in use/);
  await first.close();
  await second.listen(path, 0o600);
  assert.equal(await exchange(path, (s) => s.write('x\n')), 'two\n');
  await second.close();
});

test('the lifecycle only moves forward: STARTING → INITIALIZING → READY → DRAINING → HALT', () => {
  const l = new Lifecycle();
  const seen: string[] = [];
  l.on((s) => seen.push(s));
  assert.throws(() => l.to('READY'), /STARTING cannot go to READY/);
  l.to('INITIALIZING');
  assert.throws(() => l.to('DRAINING'));
  l.to('READY');
  assert.throws(() => l.to('INITIALIZING'));
  l.to('DRAINING');
  assert.throws(() => l.to('READY'));
  l.to('HALT');
  assert.throws(() => l.to('STARTING'));
  assert.deepEqual(seen, ['INITIALIZING', 'READY', 'DRAINING', 'HALT']);
});

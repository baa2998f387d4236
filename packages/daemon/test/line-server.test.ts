import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineServer, MAX_PIPELINED } from '../src/wire/line-server.js';
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
  // Oversized and ended by its newline in the same chunk: refused all the same, never handled.
  assert.equal(await exchange(path, (s) => s.write(`${'x'.repeat(100)}\n`)), 'refused: the request exceeds 64 bytes\n');
  assert.equal(
    await exchange(path, (s) => {
      s.write('x'.repeat(40));
      setTimeout(() => s.write(`${'x'.repeat(40)}\n`), 20);
    }),
    'refused: the request exceeds 64 bytes\n',
  );
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

test('the request deadline counts from the connection: a client trickling bytes is cut off all the same', async () => {
  const path = socketPath();
  const server = new LineServer({ handle: async (l) => `echo ${l}`, refuse: (why) => `refused: ${why}`, timeoutMs: 200 });
  await server.listen(path, 0o600);
  const started = Date.now();
  let drip: NodeJS.Timeout | undefined;
  const reply = await exchange(path, (s) => (drip = setInterval(() => s.destroyed || s.write('x'), 40)));
  clearInterval(drip);
  assert.equal(reply, 'refused: the request did not arrive within 200 ms\n');
  assert.ok(Date.now() - started < 2000, 'cut off near its deadline, though it never went quiet');
  await server.close();
});

test('past maxConnections, with every connection busy, a new connection hears why and is closed; a freed slot serves again', async () => {
  const path = socketPath();
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let holding = 0;
  const server = new LineServer({
    handle: async (l) => (l === 'hold' ? (holding++, await gate, 'held') : `echo ${l}`),
    refuse: (why) => `refused: ${why}`,
    maxConnections: 2,
  });
  await server.listen(path, 0o600);
  const held = [exchange(path, (s) => s.write('hold\n')), exchange(path, (s) => s.write('hold\n'))];
  await within(() => holding === 2);
  assert.equal(await exchange(path, (s) => s.write('hello\n')), 'refused: the daemon has 2 connections open: retry shortly\n');
  release();
  assert.deepEqual(await Promise.all(held), ['held\n', 'held\n']);
  assert.equal(await exchange(path, (s) => s.write('hello\n')), 'echo hello\n');
  await server.close();
});

test('past maxConnections, a new connection takes the place of the oldest one still sending nothing: a client holding the cap with silent connections locks no one out', async () => {
  const path = socketPath();
  const server = new LineServer({
    handle: async (l) => `echo ${l}`,
    refuse: (why) => `refused: ${why}`,
    maxConnections: 2,
    timeoutMs: 1000,
  });
  await server.listen(path, 0o600);
  const silent = [exchange(path, () => {}), exchange(path, (s) => s.write('{"partial":'))];
  await within(() => server.reading === 2);
  assert.equal(await exchange(path, (s) => s.write('hello\n')), 'echo hello\n');
  assert.equal(
    await silent[0],
    'refused: too many connections are open: this one had not sent its request yet\n',
    'the oldest is the one closed',
  );
  // The newcomer's slot was freed when it was answered: the other silent one was left to its deadline.
  assert.equal(await silent[1], 'refused: the request did not arrive within 1000 ms\n');
  await server.close();
});

test('past maxConnections, a new connection takes the place of the kept-open connection idle longest, never of one with a request in flight', async () => {
  const path = socketPath();
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const server = new LineServer({
    handle: async (l) => (l.includes('hold') ? (await gate, 'held') : `echo ${l}`),
    refuse: (why) => `refused: ${why}`,
    keepOpen: (l) => (l === 'open' ? 'ok' : undefined),
    maxConnections: 2,
  });
  await server.listen(path, 0o600);
  const open = async () => {
    const s = createConnection(path);
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    const closed = new Promise<void>((r) => s.on('close', r));
    s.write('open\n');
    await within(() => data === 'ok\n');
    return { s, closed, read: () => data };
  };
  const busy = await open();
  const idle = await open();
  busy.s.write('hold\n');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(await exchange(path, (s) => s.write('hello\n')), 'echo hello\n');
  await idle.closed;
  assert.equal(busy.s.destroyed, false, 'the connection with a call in flight stays');
  // Only the busy one is left besides the newcomer's freed slot: still served; then none is idle.
  assert.equal(await exchange(path, (s) => s.write('again\n')), 'echo again\n');
  release();
  await within(() => busy.read() === 'ok\nheld\n');
  assert.equal(busy.read(), 'ok\nheld\n');
  busy.s.end();
  await busy.closed;
  await server.close();
});

test('past maxConnections, a client that sends its request only once the daemon has answered still reads the refusal, not EPIPE', async () => {
  const path = socketPath();
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let holding = 0;
  const server = new LineServer({
    handle: async (l) => (holding++, await gate, `echo ${l}`),
    refuse: (why) => `refused: ${why}`,
    maxConnections: 1,
  });
  await server.listen(path, 0o600);
  // Busy (its request is being answered), so the newcomer cannot take its place.
  const held = exchange(path, (s) => s.write('hold\n'));
  await within(() => holding === 1);
  // A blocking client (connect, send, then read): the refusal is already waiting when it sends.
  const reply = await new Promise<string>((resolve) => {
    const s = createConnection(path);
    let data = '';
    s.pause();
    s.on('data', (d) => (data += d.toString()));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
    s.on('close', () => resolve(data));
    s.on('connect', () =>
      setTimeout(() => {
        s.write('hello\n');
        s.resume();
      }, 100),
    );
  });
  release();
  await held;
  await server.close();
  assert.equal(reply, 'refused: the daemon has 1 connections open: retry shortly\n');
});

test("one origin (an agent's mirror) holds at most its share of the connections: it cannot lock the others out", async () => {
  const path = socketPath();
  const server = new LineServer({ handle: async (l) => `echo ${l}`, refuse: (why) => `refused: ${why}`, maxConnections: 8 });
  await server.listen(path, 0o600);
  const mirror = async (origin: string) => {
    const at = socketPath();
    const m = createServer((c) => server.adopter(origin).emit('connection', c));
    await new Promise<void>((r) => m.listen(at, r));
    return { at, m };
  };
  const [a, b] = [await mirror('a'), await mirror('b')];
  const held = [createConnection(a.at), createConnection(a.at)];
  await Promise.all(held.map((c) => new Promise((r) => c.once('connect', r))));
  await within(() => server.reading === 2);
  assert.equal(await exchange(a.at, (s) => s.write('hello\n')), 'refused: agent a has 2 connections open: retry shortly\n');
  assert.equal(await exchange(b.at, (s) => s.write('hello\n')), 'echo hello\n', 'another agent is served');
  assert.equal(await exchange(path, (s) => s.write('hello\n')), 'echo hello\n');
  held[0]!.destroy();
  await within(() => server.reading === 1);
  assert.equal(await exchange(a.at, (s) => s.write('again\n')), 'echo again\n', 'a freed slot serves it again');
  held[1]!.destroy();
  a.m.close();
  b.m.close();
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

/** Wait until `done()`, for two seconds at most (the assertion after it says what failed). */
async function within(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
}

test('reading counts connections whose request is still on its way, not those being answered (the audit log syncs off-thread while there are any)', async () => {
  const path = socketPath();
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const server = new LineServer({ handle: async (l) => (await gate, `echo ${l}`), refuse: (why) => why });
  await server.listen(path, 0o600);
  const s = createConnection(path);
  try {
    assert.equal(server.reading, 0);
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    await new Promise((r) => s.once('connect', r));
    s.write('hal');
    await within(() => server.reading !== 0);
    assert.equal(server.reading, 1, 'connected, request not complete');
    s.write('f\n');
    await within(() => server.reading !== 1);
    assert.equal(server.reading, 0, 'the request is read: being answered is not reading');
    release();
    await new Promise((r) => s.once('close', r));
    assert.equal(data, 'echo half\n');
    assert.equal(server.reading, 0);
  } finally {
    release();
    s.destroy();
    await server.close();
  }
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

test('keep-open: after the acknowledgement, pipelined lines are all answered on one connection, in the order they finish', async () => {
  const path = socketPath();
  const server = new LineServer({
    handle: async (l) => (await new Promise((r) => setTimeout(r, l === 'slow' ? 60 : 1)), `echo ${l}`),
    refuse: (why) => `refused: ${why}`,
    keepOpen: (l) => (l === 'open' ? 'opened' : undefined),
    maxBytes: 64,
  });
  await server.listen(path, 0o600);
  // The opening line and three requests in one write, one split across writes; the client ends its side.
  const replies = await exchange(path, (s) => {
    s.write('open\nslow\nfast\npart');
    setTimeout(() => s.end('ial\n'), 20);
  });
  assert.deepEqual(replies.split('\n'), ['opened', 'echo fast', 'echo partial', 'echo slow', '']);
  // Without the opening line: one request per connection, as always.
  assert.equal(await exchange(path, (s) => s.write('fast\nmore\n')), 'echo fast\n');
  // A line too long cannot be resynchronised: refused, and the connection ends after pending answers.
  assert.equal(
    await exchange(path, (s) => s.write(`open\nfast\n${'x'.repeat(100)}\nnever\n`)),
    'opened\nrefused: the request exceeds 64 bytes\necho fast\n',
  );
  await server.close();
});

test('keep-open: a last line without its newline, then the client ends its side, is answered as on a one-shot connection', async () => {
  const path = socketPath();
  const server = new LineServer({
    handle: async (l) => `echo ${l}`,
    refuse: (why) => `refused: ${why}`,
    keepOpen: (l) => (l === 'open' ? 'opened' : undefined),
    maxBytes: 64,
  });
  await server.listen(path, 0o600);
  try {
    const replies = await exchange(path, (s) => s.end('open\nfirst\nlast'));
    assert.deepEqual(replies.split('\n').sort(), ['', 'echo first', 'echo last', 'opened']);
    // Still only what fits: a last line too long is refused, never handled.
    assert.equal(await exchange(path, (s) => s.end(`open\n${'x'.repeat(100)}`)), 'opened\nrefused: the request exceeds 64 bytes\n');
  } finally {
    await server.close();
  }
});

test('keep-open: a client with MAX_PIPELINED requests unanswered is not read further until answers go out', async () => {
  const path = socketPath();
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let handled = 0;
  const server = new LineServer({
    handle: async (l) => (handled++, await gate, `done ${l}`),
    refuse: (why) => why,
    keepOpen: (l) => (l === 'open' ? 'opened' : undefined),
  });
  await server.listen(path, 0o600);
  const batch = (from: number) => Array.from({ length: 150 }, (_, i) => `r${from + i}\n`).join('');
  const replies = exchange(path, (s) => {
    s.write(`open\n${batch(0)}`);
    setTimeout(() => s.write(batch(150)), 40);
    setTimeout(() => s.end(batch(300)), 80);
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(handled >= MAX_PIPELINED && handled < 450, `read no further once ${MAX_PIPELINED} waited (took ${handled})`);
  release();
  const lines = (await replies).trim().split('\n');
  assert.equal(lines.length, 451, 'every request is answered once the client is read again');
  await server.close();
});

test('keep-open: close answers what is in flight, reads no new line, and ends idle kept-open connections', async () => {
  const path = socketPath();
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const server = new LineServer({
    handle: async (l) => (await gate, `done ${l}`),
    refuse: (why) => why,
    keepOpen: (l) => (l === 'open' ? 'opened' : undefined),
  });
  await server.listen(path, 0o600);
  const idle = exchange(path, (s) => s.write('open\n'));
  let late: ReturnType<typeof createConnection> | undefined;
  const busy = exchange(path, (s) => ((late = s), s.write('open\na\n')));
  await new Promise((r) => setTimeout(r, 50));
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  late!.write('b\n');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, false, 'waits for the request in flight');
  release();
  await closing;
  assert.equal(await idle, 'opened\n');
  assert.equal(await busy, 'opened\ndone a\n', 'the line sent after close was not taken');
});

test('keep-open: each line must arrive whole within the deadline from its first byte; a trickled line is refused and the connection ends', async () => {
  const path = socketPath();
  const server = new LineServer({
    handle: async (l) => `echo ${l}`,
    refuse: (why) => `refused: ${why}`,
    keepOpen: (l) => (l === 'open' ? 'opened' : undefined),
    timeoutMs: 200,
  });
  await server.listen(path, 0o600);
  const started = Date.now();
  let drip: NodeJS.Timeout | undefined;
  // Whole lines are answered at any pace; a line whose bytes trickle is cut at its deadline.
  const reply = await exchange(path, (s) => {
    s.write('open\nfirst\n');
    setTimeout(() => {
      s.write('second\n');
      drip = setInterval(() => s.destroyed || s.write('x'), 40);
    }, 300);
  });
  clearInterval(drip);
  assert.equal(reply, 'opened\necho first\necho second\nrefused: the request did not arrive within 200 ms\n');
  assert.ok(Date.now() - started < 3000);
  await server.close();
});

test('keep-open: a line the daemon stopped reading (too much in flight) is not blamed on the client', async () => {
  const path = socketPath();
  const server = new LineServer({
    handle: async (l) => (await new Promise((r) => setTimeout(r, 400)), `echo ${l}`),
    refuse: (why) => `refused: ${why}`,
    keepOpen: (l) => (l === 'open' ? 'opened' : undefined),
    timeoutMs: 150,
  });
  await server.listen(path, 0o600);
  const lines = Array.from({ length: MAX_PIPELINED + 4 }, (_, i) => `l${i}`);
  const reply = await exchange(path, (s) => {
    s.write(`open\n${lines.join('\n')}\npartial-`);
    setTimeout(() => s.end('rest\n'), 20);
  });
  assert.ok(!reply.includes('refused'), reply.slice(0, 200));
  assert.equal(reply.trim().split('\n').length, lines.length + 2, 'every line answered, the split one too');
  await server.close();
});

test('keep-open: a drain answers the lines read, and a client still sending reads those answers, not EPIPE', async () => {
  const path = socketPath();
  let release = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const server = new LineServer({
    handle: async (l) => (await gate, `echo ${l}`),
    refuse: (why) => `refused: ${why}`,
    keepOpen: (l) => (l === 'open' ? 'opened' : undefined),
  });
  await server.listen(path, 0o600);
  const s = createConnection(path);
  let data = '';
  s.on('data', (d) => (data += d.toString()));
  const done = new Promise<string>((resolve) => {
    s.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
    s.on('close', () => resolve(data));
  });
  await new Promise((r) => s.once('connect', r));
  s.write('open\na\n');
  await within(() => data === 'opened\n');
  // The client reads its answers after its next write (a blocking client does: send, then read).
  s.pause();
  const closing = server.close();
  await new Promise((r) => setTimeout(r, 20));
  release();
  await new Promise((r) => setTimeout(r, 100));
  s.write('b\n');
  s.resume();
  assert.equal(await done, 'opened\necho a\n', 'the answer to the line read before the drain');
  await closing;
});

test('keep-open: a client that sends without reading its answers is not read further, and is cut off at the deadline', async () => {
  const path = socketPath();
  let handled = 0;
  const server = new LineServer({
    handle: async (l) => (handled++, `echo ${l}`.repeat(20)),
    refuse: (why) => `refused: ${why}`,
    keepOpen: (l) => (l === 'open' ? 'opened' : undefined),
    timeoutMs: 300,
  });
  await server.listen(path, 0o600);
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const s = createConnection(path, () => {
      s.pause(); // never reads
      s.write(`open\n${'x\n'.repeat(200_000)}`);
    });
    s.on('error', () => {});
    s.on('close', () => resolve());
  });
  assert.ok(Date.now() - started < 5_000, `cut off after ${Date.now() - started} ms`);
  assert.ok(handled < 200_000, `${handled} lines decided: the rest waited, unread`);
  await server.close();
});

/**
 * The forward proxy's shared port under one agent's flood: connections that never finish their
 * headers give way to newcomers, an open tunnel is never the one dropped, and one agent keeps only
 * its share of the port busy, so another agent still gets through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForwardProxy } from '../src/http-proxy/forward.js';
import { MAX_HTTP_CONNECTIONS, ORIGIN_SHARE } from '../src/wire/line-server.js';
import type { GovernResult } from '../src/wire/agent-protocol.js';

/** Open a tunnel to `target` as the agent of `token`: the status of the reply and the socket, kept open. */
function tunnel(port: number, target: string, token: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`),
    );
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), socket });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.once('close', () => reject(new Error(`closed before a reply (${head.length} bytes)`)));
  });
}

test('on the shared port one agent cannot lock another out, with tunnels or with half-sent headers', { timeout: 60_000 }, async () => {
  // Where the tunnels lead: accepts and holds whatever arrives.
  const held: Socket[] = [];
  const upstream = createServer((s) => held.push(s.on('error', () => {})));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const target = `127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const proxy = new ForwardProxy({
    lookup: async () => ['127.0.0.1'],
    decide: (): GovernResult => ({ effect: 'PERMIT', action_id: 'action-1' }) as GovernResult,
    agentFor: (token) => ({ fmt_a: 'a', fmt_b: 'b' })[token],
    ready: () => true,
    say: () => {},
  });
  const port = await proxy.listen(0);
  const share = MAX_HTTP_CONNECTIONS / ORIGIN_SHARE;
  const mine: Socket[] = [];
  const flood: Socket[] = [];
  try {
    for (let i = 0; i < share; i++) {
      const t = await tunnel(port, target, 'fmt_a');
      assert.equal(t.status, 200);
      mine.push(t.socket);
    }
    const over = await tunnel(port, target, 'fmt_a');
    mine.push(over.socket);
    assert.equal(over.status, 429, "past its share an agent's next tunnel is refused");
    const other = await tunnel(port, target, 'fmt_b');
    mine.push(other.socket);
    assert.equal(other.status, 200, 'another agent still opens one');

    // Now fill the port with connections that send half their headers and stop.
    for (let i = 0; i < MAX_HTTP_CONNECTIONS; i++)
      flood.push(
        connect(port, '127.0.0.1', function (this: Socket) {
          this.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127');
        }).on('error', () => {}),
      );
    await sleep(1200);
    const again = await tunnel(port, target, 'fmt_b');
    mine.push(again.socket);
    assert.equal(again.status, 200, 'a stalled sender gave way');
    const open = mine.slice(0, share).filter((s) => !s.destroyed && s.readyState === 'open').length;
    assert.equal(open, share, 'no open tunnel was the one dropped');
  } finally {
    for (const s of [...mine, ...flood, ...held]) s.destroy();
    await proxy.close();
    upstream.close();
  }
});

test('refused CONNECTs whose clients keep their side open do not hold the shared port', { timeout: 60_000 }, async () => {
  const proxy = new ForwardProxy({
    lookup: async () => ['127.0.0.1'],
    decide: (): GovernResult => ({ effect: 'PERMIT', action_id: 'action-1' }) as GovernResult,
    agentFor: (token) => ({ fmt_b: 'b' })[token],
    ready: () => true,
    say: () => {},
  });
  const port = await proxy.listen(0);
  const held: Socket[] = [];
  const upstream = createServer((s) => held.push(s.on('error', () => {})));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const target = `127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const flood: Socket[] = [];
  try {
    // No credentials: each is refused 407 before any agent is known, so no share counts it.
    const replies: Promise<string>[] = [];
    for (let i = 0; i < MAX_HTTP_CONNECTIONS; i++) {
      const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () =>
        s.write('CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n'),
      ).on('error', () => {});
      flood.push(s);
      replies.push(
        new Promise((resolve) => {
          let head = '';
          s.on('data', (d: Buffer) => (head += d.toString('latin1')));
          s.once('end', () => resolve(head));
        }),
      );
    }
    for (const head of await Promise.all(replies)) assert.match(head, /^HTTP\/1\.1 407 /, 'the refusal itself still arrives');
    const other = await tunnel(port, target, 'fmt_b');
    flood.push(other.socket);
    assert.equal(other.status, 200, 'another agent still opens a tunnel');
  } finally {
    for (const s of [...flood, ...held]) s.destroy();
    await proxy.close();
    upstream.close();
  }
});

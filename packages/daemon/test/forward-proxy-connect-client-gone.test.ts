/**
 * An agent that leaves while its CONNECT is being decided leaves nothing open: the connection to the
 * host opened for it once permitted is closed at once, with the agent's half-open socket. (The HTTP
 * server lets a socket stay half open, and nothing was piped yet to end either side: both were held
 * for as long as the host kept its side.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import type { GovernResult } from '../src/wire/agent-protocol.js';
import { loopbackProxy } from './forward-proxy-deps.js';

test('a CONNECT whose agent left during the decision leaves no connection open', async () => {
  let reached = 0;
  let open = 0;
  const upstream = createServer((s) => {
    reached++;
    open++;
    s.on('error', () => {});
    s.on('close', () => open--);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upstreamPort = (upstream.address() as { port: number }).port;
  let decided!: () => void;
  const decision = new Promise<void>((r) => (decided = r));
  const proxy = loopbackProxy({
    decide: async (): Promise<GovernResult> => {
      await decision;
      return { effect: 'PERMIT', action_id: 'action-1' } as GovernResult;
    },
  });
  const port = await proxy.listen(0, 'agent');
  try {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nhost: 127.0.0.1:${upstreamPort}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 200));
    s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    decided();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(reached <= 1, true);
    assert.equal(open, 0, 'no connection to the host is left open for an agent that has gone');
  } finally {
    await proxy.close();
    upstream.close();
  }
});

test('a tunnel whose agent hangs up before its TLS handshake is closed on both sides', async () => {
  let open = 0;
  const upstream = createServer((s) => {
    open++;
    s.on('error', () => {});
    s.on('close', () => open--);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upstreamPort = (upstream.address() as { port: number }).port;
  const proxy = loopbackProxy();
  const port = await proxy.listen(0, 'agent');
  try {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nhost: 127.0.0.1:${upstreamPort}\r\n\r\n`);
    assert.match(await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString()))), /^HTTP\/1\.1 200/);
    s.end(); // half-closed: it will send nothing more, so no handshake
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(s.destroyed, true, "the agent's side is closed");
    assert.equal(open, 0, "the host's side is closed");
  } finally {
    await proxy.close();
    upstream.close();
  }
});

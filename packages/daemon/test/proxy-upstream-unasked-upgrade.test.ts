/**
 * An upstream that answers 101 Switching Protocols to a request that asked for no upgrade: Node's
 * client then closes the request with neither a response nor an error. Both proxies must still
 * answer (502), not leave the agent waiting on an open connection for ever.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { ForwardProxy } from '../src/http-proxy/forward.js';
import { ReverseProxy } from '../src/http-proxy/reverse.js';
import { RouteTable } from '../src/http-proxy/routes.js';
import type { GovernResult } from '../src/wire/agent-protocol.js';

let upstream: Server;
let upstreamPort = 0;
const permit = (): GovernResult => ({ effect: 'PERMIT', action_id: 'action-1' }) as GovernResult;

before(async () => {
  upstream = createServer((c) => {
    c.on('error', () => {});
    c.once('data', () => c.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;
});
after(() => upstream.close());

/** GET `path` from 127.0.0.1:`port`: the status and body, or 'no answer' if none came within 3 s. */
function get(port: number, path: string): Promise<{ status: number; body: string } | 'no answer'> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.setTimeout(3000, () => {
      r.destroy();
      resolve('no answer');
    });
    r.on('error', reject);
    r.end();
  });
}

test('forward proxy: an upstream that switches protocols unasked gets the agent a 502, not a hang', { timeout: 10_000 }, async () => {
  const proxy = new ForwardProxy({
    lookup: async () => ['127.0.0.1'],
    decide: permit,
    agentFor: () => undefined,
    ready: () => true,
    say: () => {},
  });
  const port = await proxy.listen(0, 'bot');
  try {
    const answer = await get(port, `http://upstream.test:${upstreamPort}/ws`);
    assert.notEqual(answer, 'no answer', 'the agent got an answer');
    assert.equal(answer !== 'no answer' && answer.status, 502);
    assert.match(answer !== 'no answer' ? answer.body : '', /without an answer/);
  } finally {
    await proxy.close();
  }
});

test('reverse proxy: an upstream that switches protocols unasked gets the caller a 502, not a hang', { timeout: 10_000 }, async () => {
  const proxy = new ReverseProxy({
    decide: permit,
    principal: () => undefined,
    ready: () => true,
    config: () => ({ table: new RouteTable([]), upstream: new URL(`http://127.0.0.1:${upstreamPort}`), agent: 'bot' }),
  });
  const server: HttpServer = createHttpServer((req, res) => void proxy.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const answer = await get((server.address() as AddressInfo).port, '/ws');
    assert.notEqual(answer, 'no answer', 'the caller got an answer');
    assert.equal(answer !== 'no answer' && answer.status, 502);
  } finally {
    proxy.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

/**
 * The reverse proxy states the caller's address, host and scheme to the upstream itself
 * (docs/http-proxy.md: `x-forwarded-for`, `-proto` and `-host` are added). A client's own
 * `Forwarded`, `X-Real-IP` or other `X-Forwarded-*` went on beside them, so an upstream that trusts
 * its proxy for the caller's address (an allowlist, a rate limit, a log) read the client's claim.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReverseProxy } from '../src/http-proxy/reverse.js';
import { RouteTable } from '../src/http-proxy/routes.js';
import type { GovernResult } from '../src/wire/agent-protocol.js';

let seen: IncomingHttpHeaders = {};
let upstream: Server;
let front: Server;
let upPort = 0;
let frontPort = 0;
const reverse = new ReverseProxy({
  decide: () => ({ effect: 'PERMIT', action_id: 'action-1' }) as GovernResult,
  principal: () => undefined,
  ready: () => true,
  config: () => ({ table: new RouteTable([]), upstream: new URL(`http://127.0.0.1:${upPort}`), agent: 'agent' }),
});

before(async () => {
  upstream = createServer((req, res) => {
    seen = req.headers;
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upPort = (upstream.address() as AddressInfo).port;
  front = createServer((req, res) => void reverse.handle(req, res));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  frontPort = (front.address() as AddressInfo).port;
});
after(() => {
  reverse.close();
  front.close();
  upstream.close();
});

test("the client's Forwarded, X-Real-IP and X-Forwarded-* never reach the upstream; the daemon's own do", async () => {
  const r = await fetch(`http://127.0.0.1:${frontPort}/status`, {
    headers: {
      forwarded: 'for=10.0.0.1;host=admin.internal;proto=https',
      'x-real-ip': '10.0.0.2',
      'x-forwarded-for': '10.0.0.3',
      'x-forwarded-port': '443',
      'x-forwarded-prefix': '/admin',
      'x-client-ip': '10.0.0.4',
      'true-client-ip': '10.0.0.5',
      'cf-connecting-ip': '10.0.0.6',
      'x-other': 'kept',
    },
  });
  assert.equal(r.status, 200);
  assert.equal(seen.forwarded, undefined);
  assert.equal(seen['x-real-ip'], undefined);
  assert.equal(seen['x-forwarded-port'], undefined);
  for (const h of ['x-client-ip', 'true-client-ip', 'cf-connecting-ip']) assert.equal(seen[h], undefined, h);
  assert.equal(seen['x-forwarded-prefix'], undefined);
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen['x-forwarded-proto'], 'http');
  assert.equal(seen['x-forwarded-host'], `127.0.0.1:${frontPort}`);
  assert.equal(seen['x-other'], 'kept');
});

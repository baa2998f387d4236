/**
 * The reverse proxy states the caller's address, host and scheme to the upstream itself
 * (docs/http-proxy.md: `x-forwarded-for`, `-proto` and `-host` are added). A client's own
 * `Forwarded`, `X-Real-IP` or other `X-Forwarded-*` went on beside them, so an upstream that trusts
 * its proxy for the caller's address (an allowlist, a rate limit, a log) read the client's claim.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { reverseFixture, type ReverseFixture } from './reverse-fixture.js';

let seen: IncomingHttpHeaders = {};
let proxy: ReverseFixture;

before(async () => {
  proxy = await reverseFixture((req, res) => {
    seen = req.headers;
    req.resume();
    req.on('end', () => res.end('ok'));
  });
});
after(() => proxy.close());

test("the client's Forwarded, X-Real-IP and X-Forwarded-* never reach the upstream; the daemon's own do", async () => {
  const r = await fetch(`${proxy.url}/status`, {
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
  assert.equal(seen['x-forwarded-host'], new URL(proxy.url).host);
  assert.equal(seen['x-other'], 'kept');
});

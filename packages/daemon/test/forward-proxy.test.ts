/**
 * DNS rebinding against the forward proxy: a name is resolved once per request, the decision (and the
 * SSRF guard in it) sees those addresses, and the connection goes to the address that was checked,
 * never to whatever a second lookup would say. A rebinding DNS is stood in for the system resolver.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { MAX_HTTP_CONNECTIONS } from '../src/wire/line-server.js';
import { ForwardProxy } from '../src/http-proxy/forward.js';
import { connectHead } from './proxy-client.js';
import type { GovernParams, GovernResult } from '../src/wire/agent-protocol.js';
import type { HttpFields } from '@faramesh/protocol';

const CHECKED = '127.0.0.2';
const REBOUND = '127.0.0.3';
const hits: string[] = [];
/** Which upstream each TCP connection reached. */
const connections: string[] = [];
const upstreams: Server[] = [];
let port = 0;
let proxyPort = 0;
/** Each lookup of the name answers differently: the checked address first, then the rebound one. */
let lookups = 0;
const seen: string[][] = [];

const proxy = new ForwardProxy({
  lookup: async () => (lookups++ === 0 ? [CHECKED] : [REBOUND]),
  // A stand-in for the engine's SSRF guard: only the checked address may be reached.
  decide: (_p: GovernParams, _tool: string, http: HttpFields): GovernResult => {
    seen.push(http.addresses ?? []);
    const ok = (http.addresses ?? []).every((a) => a === CHECKED);
    return ok
      ? ({ effect: 'PERMIT', action_id: 'action-1' } as GovernResult)
      : ({
          effect: 'DENY',
          reason_code: 'EGRESS_DENIED',
          structured_denial: { code: 'EGRESS_DENIED', human_message: 'private address' },
        } as GovernResult);
  },
  agentFor: () => undefined,
  ready: () => ready,
  say: () => {},
});
let ready = true;

before(async () => {
  // Two upstreams on the same port, one per loopback address.
  for (const address of [CHECKED, REBOUND]) {
    const s = createServer((req, res) => {
      hits.push(`${address} ${req.method} ${req.url}`);
      res.end(address);
    });
    s.on('connection', () => connections.push(address));
    await new Promise<void>((r) => s.listen(port, address, () => r()));
    port = (s.address() as AddressInfo).port;
    upstreams.push(s);
  }
  proxyPort = await proxy.listen(0, 'agent');
});
after(async () => {
  await proxy.close();
  for (const s of upstreams) s.close();
});

const viaProxy = (path: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: proxyPort, path: `http://rebind.example:${port}${path}` }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', reject);
    r.end();
  });

test('plain HTTP: one lookup per request, and the request goes to the address the decision checked', async () => {
  const first = await viaProxy('/one');
  assert.equal(first.status, 200);
  assert.equal(first.body, CHECKED);
  assert.equal(lookups, 1, 'resolved once for the decision and the connection alike');
  assert.deepEqual(seen.at(-1), [CHECKED]);
  // The name now rebinds to another address: the decision sees it, and nothing reaches it.
  const second = await viaProxy('/two');
  assert.equal(second.status, 403);
  assert.match(second.body, /EGRESS_DENIED/);
  assert.deepEqual(hits, [`${CHECKED} GET /one`]);
  assert.ok(!connections.includes(REBOUND), 'the rebound address was never connected to');
});

test('CONNECT: the tunnel is opened to the checked address', async () => {
  lookups = 0;
  connections.length = 0;
  const reply = await connectHead(proxyPort, `rebind.example:${port}`);
  assert.match(reply, /^HTTP\/1\.1 200/);
  assert.equal(lookups, 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(connections, [CHECKED]);
  assert.deepEqual(seen.at(-1), [CHECKED]);
});

test('a proxied request the daemon is not ready for gets the DAEMON_NOT_READY payload of errors.md, plain or CONNECT', async () => {
  ready = false;
  try {
    const plain = await viaProxy('/early');
    assert.equal(plain.status, 503);
    assert.deepEqual(JSON.parse(plain.body), {
      effect: 'DENY',
      code: 'DAEMON_NOT_READY',
      human_message: 'denied: daemon is initializing, retry in a moment',
      resolution: { type: 'retry_after', retry_after_seconds: 2 },
    });
    const tunnel = await new Promise<string>((resolve, reject) => {
      const s = connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT rebind.example:${port} HTTP/1.1\r\nHost: x\r\n\r\n`));
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString('latin1')));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    assert.match(tunnel, /^HTTP\/1\.1 503/);
    assert.equal((JSON.parse(tunnel.split('\r\n\r\n')[1]!) as { code: string }).code, 'DAEMON_NOT_READY');
  } finally {
    ready = true;
  }
});

test('a flood of idle connections fills the listener (MAX_HTTP_CONNECTIONS), never the daemon: freed slots serve again', async () => {
  const idle: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < MAX_HTTP_CONNECTIONS + 20; i++)
    idle.push(
      await new Promise<Socket>((resolve) => {
        const s = connect(proxyPort, '127.0.0.1', () => resolve(s));
        s.on('error', () => {});
        s.once('close', () => closed++);
      }),
    );
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(closed >= 20, `${closed} connections past the cap were dropped`);
  for (const s of idle) s.destroy();
  await new Promise((r) => setTimeout(r, 300));
  const after = await viaProxy('/after');
  assert.ok([200, 403].includes(after.status), `the proxy decides again: ${after.status}`);
});

/**
 * A request with more header fields than Node keeps (about 1,000 by default) whose body is framed by
 * a Content-Length or Transfer-Encoding past that count: Node's parser frames the body by it, but
 * `req.headers` no longer holds it. The proxies must still send the body on framed, so that a request
 * hidden in a GET's body never reaches the upstream as a request of its own, undecided.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ed25519Signer, newEd25519Key } from '@faramesh/audit';
import { ForwardProxy } from '../src/http-proxy/forward.js';
import { ReverseProxy } from '../src/http-proxy/reverse.js';
import { RouteTable } from '../src/http-proxy/routes.js';
import { HttpApi } from '../src/wire/http-api.js';
import { TokenBook } from '../src/core/tokens.js';
import { StateSeal } from '../src/stack/sealed-state.js';
import type { GovernParams, GovernResult } from '../src/wire/agent-protocol.js';

/** What the upstream ran, and what was decided. */
const ran: string[] = [];
const decided: string[] = [];
let upstream: Server;
let upPort = 0;
let fwdPort = 0;
let apiPort = 0;
const dir = mkdtempSync(join(tmpdir(), 'faramesh-header-count-'));

const decide = (p: GovernParams): GovernResult => {
  decided.push(String((p.args as { path: string }).path));
  return { effect: 'PERMIT', action_id: 'action-1' } as GovernResult;
};
const forward = new ForwardProxy({
  decide,
  agentFor: () => undefined,
  ready: () => true,
  say: () => {},
  lookup: async () => ['127.0.0.1'],
});
const reverse = new ReverseProxy({
  decide,
  principal: () => undefined,
  ready: () => true,
  config: () => ({ table: new RouteTable([]), upstream: new URL(`http://127.0.0.1:${upPort}`), agent: 'agent' }),
});
const k = new Ed25519Signer('faramesh/test', newEd25519Key());
const api = new HttpApi({
  state: () => 'READY',
  tokens: new TokenBook(join(dir, 'tokens.json'), new StateSeal(k, [k])),
  evaluate: () => Promise.resolve({ status: 200, body: {} }),
  spawnEnded: () => Promise.resolve({ status: 200, body: {} }),
  approval: () => ({}),
  operate: () => Promise.resolve('{}'),
  metrics: () => '',
  proxy: (req, res) => reverse.handle(req, res),
});

before(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      ran.push(`${req.method} ${req.url}`);
      res.end('ok');
    });
  });
  // The upstream's own header limit must not be what refuses the hidden request.
  upstream.maxHeadersCount = 0;
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upPort = (upstream.address() as AddressInfo).port;
  fwdPort = await forward.listen(0, 'agent');
  apiPort = (await api.listen({ host: '127.0.0.1', port: 0 })).port;
});
after(async () => {
  await forward.close();
  reverse.close();
  await api.close();
  upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A GET with 1,500 filler headers, then the framing of a body that is itself a request for /admin. */
async function send(port: number, target: string, framing: 'content-length' | 'chunked'): Promise<void> {
  const hidden = `GET /admin HTTP/1.1\r\nHost: 127.0.0.1:${upPort}\r\n\r\n`;
  let filler = '';
  for (let i = 0; i < 1500; i++) filler += `x-${i}: 1\r\n`;
  const frame =
    framing === 'content-length'
      ? `Content-Length: ${Buffer.byteLength(hidden)}\r\n\r\n${hidden}`
      : `Transfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(hidden).toString(16)}\r\n${hidden}\r\n0\r\n\r\n`;
  await new Promise<void>((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => c.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${upPort}\r\n${filler}${frame}`));
    let got = '';
    c.on('data', (d: Buffer) => {
      got += d.toString();
      if (/\r\n\r\n[\s\S]*ok$|"error"/.test(got)) c.end();
    });
    c.on('close', () => resolve());
    c.on('error', reject);
  });
  // Let anything the upstream read after the answer show up.
  await new Promise((r) => setTimeout(r, 150));
}

for (const framing of ['content-length', 'chunked'] as const)
  test(`a body framed by a ${framing} past Node's header count is sent on framed, never as a request of its own`, async () => {
    ran.length = 0;
    decided.length = 0;
    await send(fwdPort, `http://127.0.0.1:${upPort}/public`, framing);
    await send(apiPort, '/public', framing);
    assert.deepEqual(decided, ['/public', '/public']);
    assert.deepEqual(ran, ['GET /public', 'GET /public'], 'only what was decided reached the upstream');
  });

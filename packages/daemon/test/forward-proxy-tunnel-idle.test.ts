/**
 * A CONNECT tunnel with nothing moving either way for the proxy's idle limit is closed on both
 * sides, as a plain request's connection is: a tunnel nobody uses cannot hold a connection (and the
 * port's cap, which never evicts tunnels) for ever. A tunnel in use stays open.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import type { ForwardProxy } from '../src/http-proxy/forward.js';
import { StackCa } from '../src/http-proxy/stack-ca.js';
import type { GovernParams, GovernResult } from '../src/wire/agent-protocol.js';
import { selfSignedCert } from './tls-fixtures.js';
import { loopbackProxy } from './forward-proxy-deps.js';

const IDLE = 300;
const cert = selfSignedCert('idle');
/** The upstream's side of each tunnel, to see it closed. */
const upstreamSides: TLSSocket[] = [];
let upstream: Server;
let upstreamPort = 0;
let proxy: ForwardProxy;
let proxyPort = 0;

before(async () => {
  // An echo server over TLS.
  upstream = createTlsServer({ key: readFileSync(cert.key), cert: readFileSync(cert.cert) }, (s) => {
    upstreamSides.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  // A tunnel that never carries a handshake reaches the upstream as a TCP connection only.
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as { port: number }).port;
  proxy = loopbackProxy({
    idleMs: IDLE,
  });
  proxyPort = await proxy.listen(0, 'agent');
});
after(async () => {
  await proxy.close();
  upstream.close();
});

async function tunnel(): Promise<Socket> {
  const s = connect(proxyPort, '127.0.0.1');
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  s.write(`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nhost: 127.0.0.1:${upstreamPort}\r\n\r\n`);
  const head = await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString())));
  assert.match(head, /^HTTP\/1\.1 200/);
  return s;
}

const closedWithin = (s: { destroyed: boolean; once(e: 'close', f: () => void): unknown }, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => (clearTimeout(timer), resolve(true)));
  });

test('a tunnel that never sends a byte is closed once idle', async () => {
  const s = await tunnel();
  assert.equal(await closedWithin(s, IDLE * 6), true, 'the idle tunnel is closed');
});

test('a TLS tunnel in use stays open; once idle it is closed on both sides', async () => {
  const raw = await tunnel();
  const tls = tlsConnect({ socket: raw, rejectUnauthorized: false, host: '127.0.0.1' });
  tls.on('error', () => {});
  await new Promise((r) => tls.once('secureConnect', r));
  let echoed = '';
  tls.on('data', (d: Buffer) => (echoed += d.toString()));
  // Busy for well past the idle limit: a byte every IDLE / 3.
  for (let i = 0; i < 8; i++) {
    tls.write('x');
    await new Promise((r) => setTimeout(r, IDLE / 3));
  }
  assert.equal(raw.destroyed, false, 'a tunnel in use is not cut');
  assert.equal(echoed, 'x'.repeat(8));
  const side = upstreamSides.at(-1)!;
  assert.equal(await closedWithin(raw, IDLE * 6), true, "the agent's side is closed");
  assert.equal(await closedWithin(side, IDLE * 6), true, "the upstream's side is closed");
});

test('an inspected tunnel answering requests stays open; once idle it is closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faramesh-fwd-idle-'));
  const ca = await StackCa.load(join(dir, 'keys'), join(dir, 'publish'));
  const inspecting = loopbackProxy({
    // The tunnel is permitted; each request inside is denied, so no upstream is needed.
    decide: (_p: GovernParams, tool: string): GovernResult =>
      (tool === 'http/connect'
        ? { effect: 'PERMIT', action_id: 'action-1' }
        : { effect: 'DENY', structured_denial: { code: 'POLICY_DENY', human_message: 'no' } }) as GovernResult,
    inspect: { ca, host: () => true },
    idleMs: IDLE,
  });
  const port = await inspecting.listen(0, 'agent');
  try {
    const raw = connect(port, '127.0.0.1');
    raw.on('error', () => {});
    await new Promise((r) => raw.once('connect', r));
    raw.write('CONNECT 127.0.0.1:9 HTTP/1.1\r\nhost: 127.0.0.1:9\r\n\r\n');
    assert.match(await new Promise<string>((r) => raw.once('data', (d: Buffer) => r(d.toString()))), /^HTTP\/1\.1 200/);
    const tls = tlsConnect({ socket: raw, ca: ca.certPem, host: '127.0.0.1' });
    tls.on('error', () => {});
    await new Promise((r) => tls.once('secureConnect', r));
    let answers = 0;
    tls.on('data', (d: Buffer) => (answers += d.toString().match(/HTTP\/1\.1 403/g)?.length ?? 0));
    for (let i = 0; i < 8; i++) {
      tls.write('GET /x HTTP/1.1\r\nhost: 127.0.0.1:9\r\n\r\n');
      await new Promise((r) => setTimeout(r, IDLE / 3));
    }
    assert.equal(raw.destroyed, false, 'a tunnel in use is not cut');
    assert.equal(answers, 8);
    assert.equal(await closedWithin(raw, IDLE * 6), true, 'the idle tunnel is closed');
  } finally {
    await inspecting.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

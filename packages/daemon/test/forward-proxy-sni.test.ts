/**
 * An uninspected CONNECT tunnel carries TLS to the host that was decided, and to no other: a
 * ClientHello naming another server (SNI), which a shared front end (a CDN) would route by, closes
 * the tunnel before anything reaches the upstream (domain fronting).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type Server } from 'node:tls';
import { ForwardProxy, clientHello } from '../src/http-proxy/forward.js';
import { selfSignedCert } from './tls-fixtures.js';
import { loopbackProxy } from './forward-proxy-deps.js';

const tls = selfSignedCert('front');
/** The server names the upstream was asked for, one per handshake that reached it. */
const served: string[] = [];
let upstream: Server;
let upstreamPort = 0;
let proxy: ForwardProxy;
let proxyPort = 0;

before(async () => {
  upstream = createTlsServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (s) => {
    served.push(String((s as unknown as { servername: string | false }).servername));
    s.end('hello');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as AddressInfo).port;
  proxy = loopbackProxy();
  proxyPort = await proxy.listen(0, 'agent');
});
after(async () => {
  await proxy.close();
  upstream.close();
});

/** CONNECT to `target`, then TLS asking for `servername`: what came back through the tunnel, or the error. */
function through(target: string, servername?: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`));
    s.once('data', (d: Buffer) => {
      if (!d.toString().startsWith('HTTP/1.1 200')) return resolve(d.toString().split('\r\n')[0]!);
      const t = tlsConnect({ socket: s, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
      let got = '';
      t.on('data', (x: Buffer) => (got += x));
      t.on('end', () => resolve(got || 'closed'));
      t.on('error', (e) => resolve(`error ${e.message}`));
      t.on('close', () => resolve(got === '' ? 'closed' : got));
    });
  });
}

test('the TLS handshake may name the host the CONNECT was decided for, in any letter case, or none', async () => {
  assert.equal(await through(`api.example.com:${upstreamPort}`, 'api.example.com'), 'hello');
  assert.equal(await through(`API.example.com:${upstreamPort}`, 'api.EXAMPLE.com'), 'hello');
  assert.equal(await through(`127.0.0.1:${upstreamPort}`), 'hello');
  assert.deepEqual(served, ['api.example.com', 'api.EXAMPLE.com', 'false']);
});

test('a TLS handshake naming another server closes the tunnel before it reaches the upstream', async () => {
  const before = served.length;
  assert.match(await through(`api.example.com:${upstreamPort}`, 'inspected.example.com'), /^(error|closed)/);
  assert.match(await through(`127.0.0.1:${upstreamPort}`, 'inspected.example.com'), /^(error|closed)/);
  assert.equal(served.length, before, 'no handshake reached the upstream');
});

test('a ClientHello is read whole, however it is split; anything else is not TLS', () => {
  assert.equal(clientHello(Buffer.from([0x16, 3, 1])), 'more');
  assert.equal(clientHello(Buffer.from('GET / HTTP/1.1\r\n')), 'not-tls');
  assert.equal(clientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])), 'not-tls', 'a handshake message that is no ClientHello');
});

/**
 * TLS inspection narrowed by `https_inspection_hosts`: another spelling of an inspected host (an
 * IPv4 address written as one number, in hex or shortened; an IDN written in Unicode in the list)
 * is the same host to the resolver and to the policy, so it must be inspected too. Otherwise the
 * tunnel goes out uninspected and the request-level rules never see what goes through it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyIR } from '@faramesh/fpl/runtime';
import type { HttpFields } from '@faramesh/protocol';
import { ForwardProxy } from '../src/http-proxy/forward.js';
import { httpsInspection } from '../src/http-proxy/inspection.js';
import type { GovernParams, GovernResult } from '../src/wire/agent-protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'fm-inspect-spelling-'));
const ir = { runtime: { https_inspection: true, https_inspection_hosts: ['127.0.0.1', 'Bücher.example.'] } } as unknown as PolicyIR;
const decided: string[] = [];
/** TCP connections the upstream took: a tunnel that is not inspected opens one at once. */
let upstreamConnections = 0;
let upstream: Server;
let upstreamPort = 0;
let proxy: ForwardProxy;
let proxyPort = 0;
let caPem = '';

before(async () => {
  const inspect = (await httpsInspection(ir, join(dir, 'keys'), join(dir, 'pub')))!;
  caPem = inspect.ca.certPem;
  upstream = createServer((s) => {
    upstreamConnections++;
    s.destroy();
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as AddressInfo).port;
  proxy = new ForwardProxy({
    lookup: async () => ['127.0.0.1'],
    decide: (p: GovernParams, _tool: string, _http: HttpFields): GovernResult => {
      decided.push(String(p.args?.host));
      return { effect: 'PERMIT', action_id: 'action-1' } as GovernResult;
    },
    agentFor: () => undefined,
    ready: () => true,
    say: () => {},
    inspect,
  });
  proxyPort = await proxy.listen(0, 'agent');
});
after(async () => {
  await proxy.close();
  upstream.close();
});

/** CONNECT to `target`, then a TLS handshake that trusts only the stack CA: the issuer's CN, or the error. */
function handshake(target: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n\r\n`));
    s.once('data', (d: Buffer) => {
      if (!d.toString().startsWith('HTTP/1.1 200')) return resolve(d.toString().split('\r\n')[0]!);
      const t = tlsConnect({ socket: s, ca: caPem, checkServerIdentity: () => undefined }, () => {
        resolve(`issuer ${t.getPeerCertificate().issuer.CN}`);
        t.destroy();
      });
      t.on('error', (e) => resolve(`error ${e.message}`));
    });
    s.on('error', (e) => resolve(`error ${e.message}`));
  });
}

test('an inspected IPv4 address is inspected however the CONNECT spells it', async () => {
  for (const spelling of ['127.0.0.1', '2130706433', '0x7f000001', '127.1', '0177.0.0.1']) {
    const before = upstreamConnections;
    const got = await handshake(`${spelling}:${upstreamPort}`);
    assert.match(got, /^issuer Faramesh proxy CA/, `${spelling}: ${got}`);
    assert.equal(upstreamConnections, before, `${spelling} was tunnelled to the upstream uninspected`);
    assert.equal(decided.at(-1), '127.0.0.1', 'the policy decided the canonical address');
  }
});

test('inspected hosts are written as egress entries are: Unicode, upper case and a trailing dot name the IDNA host', async () => {
  const inspect = (await httpsInspection(ir, join(dir, 'keys'), join(dir, 'pub')))!;
  assert.equal(inspect.host('xn--bcher-kva.example'), true);
  assert.equal(inspect.host('other.example'), false);
});

test('a CONNECT host the URL parser does not take as a host is refused before any decision', async () => {
  const count = decided.length;
  assert.match(await handshake(`1.2.3.4.5:${upstreamPort}`), /^HTTP\/1.1 400/);
  assert.equal(decided.length, count);
});

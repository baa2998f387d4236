/**
 * The forward proxy tells the decision which of a target's addresses are this machine's own (the
 * engine's SSRF guard refuses those as it does loopback), for plain HTTP and CONNECT alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { ForwardProxy } from '../src/http-proxy/forward.js';
import { connectHead } from './proxy-client.js';
import type { GovernParams, GovernResult } from '../src/wire/agent-protocol.js';
import type { HttpFields } from '@faramesh/protocol';

test("plain HTTP and CONNECT: the decision hears which of the target's addresses are this machine's own", async () => {
  const mine = Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .find((a) => !a.internal && a.family === 'IPv4')!.address;
  const elsewhere = '93.184.216.34';
  const heard: HttpFields[] = [];
  const proxy = new ForwardProxy({
    lookup: async () => [elsewhere, mine],
    decide: (_p: GovernParams, _tool: string, http: HttpFields): GovernResult => {
      heard.push(http);
      return {
        effect: 'DENY',
        reason_code: 'EGRESS_DENIED',
        structured_denial: { code: 'EGRESS_DENIED', human_message: 'refused' },
      } as GovernResult;
    },
    agentFor: () => undefined,
    ready: () => true,
    say: () => {},
  });
  const port = await proxy.listen(0, 'agent');
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port, path: 'http://service.example:8080/x' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', reject);
      r.end();
    });
    assert.equal(status, 403);
    const reply = await connectHead(port, 'service.example:443');
    assert.match(reply, /^HTTP\/1\.1 403/);
    assert.equal(heard.length, 2);
    for (const http of heard) {
      assert.deepEqual(http.addresses, [elsewhere, mine]);
      assert.deepEqual(http.own_addresses, [mine], `${http.method}: only the machine's own address`);
    }
  } finally {
    await proxy.close();
  }
});

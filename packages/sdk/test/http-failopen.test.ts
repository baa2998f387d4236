/** HttpTransport: failOpen opens a daemon no connection reached, never one that had the request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { governedTools, HttpTransport, ToolDeniedError } from '../src/index.js';

const deny = {
  effect: 'DENY',
  structured_denial: { code: 'POLICY_DENY', human_message: 'no', resolution: { type: 'rule_block', rule_id: 'r' } },
};

test('failOpen over HTTP: a fetch that fails after the daemon decided (no error code) does not run the tool', async () => {
  let decided = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      decided++;
      if (req.url === '/loop/v1/evaluate') return void res.writeHead(307, { location: req.url }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(deny));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    // An edge runtime's fetch: the request reached the daemon (which denied it), then the connection was lost.
    const edgeFetch = (async (input: string, init: RequestInit) => {
      await (await globalThis.fetch(input, init)).text();
      throw new TypeError('Network connection lost.');
    }) as unknown as typeof fetch;
    for (const transport of [new HttpTransport(url, { fetch: edgeFetch }), new HttpTransport(`${url}/loop`)]) {
      let ran = false;
      const tools = governedTools({ payout: async () => (ran = true) }, { agentId: 'a', transport, failOpen: true, startGraceMs: 0 });
      const e = await tools.payout().catch((x: unknown) => x);
      assert.equal(ran, false, 'the daemon had the call: failOpen does not run it');
      assert.ok(e instanceof ToolDeniedError, String(e));
      assert.equal(e.code, 'DAEMON_ERROR');
    }
    assert.ok(decided > 1);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  // Nothing listening (a port no connection was ever made to): that is unreachable, and failOpen runs the tool.
  const spare = createServer();
  await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
  const down = `http://127.0.0.1:${(spare.address() as AddressInfo).port}`;
  await new Promise((r) => spare.close(r));
  let ran = false;
  const tools = governedTools(
    { act: async () => (ran = true) },
    { agentId: 'a', transport: new HttpTransport(down), failOpen: true, startGraceMs: 0 },
  );
  await tools.act();
  assert.equal(ran, true);
});

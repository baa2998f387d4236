/** A reply that is not a decision is a denial that never repeats what the reply carried (a credential). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { governedTools, HttpTransport, ToolDeniedError } from '../src/index.js';

test('an unknown effect next to a credential: denied, and the secret is in no message', async () => {
  const replies = [
    { effect: 'permit', credential: { value: 'sk-live-SECRET', header: 'authorization', expires_at: 'x' } },
    { effect: 'ALLOW', note: 'sk-live-SECRET' },
    { credential: { value: 'sk-live-SECRET', header: 'authorization', expires_at: 'x' } },
  ];
  let next = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(replies[Math.floor(next++ / 2)]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const reply of replies) {
      let ran = false;
      const tools = governedTools(
        { act: { execute: async (_: unknown) => (ran = true) } },
        { agentId: 'a', transport: new HttpTransport(url) },
      );
      const shown = await tools.act.execute({});
      assert.equal(ran, false);
      assert.equal((shown as unknown as { code?: string }).code, 'DAEMON_ERROR', JSON.stringify(reply));
      assert.doesNotMatch(JSON.stringify(shown), /sk-live-SECRET/);
      const thrown = await governedTools(
        { act: async () => (ran = true) },
        { agentId: 'a', transport: new HttpTransport(url), denialResult: false },
      )
        .act()
        .catch((e: unknown) => e);
      assert.ok(thrown instanceof ToolDeniedError);
      assert.doesNotMatch(`${thrown.message} ${thrown.humanMessage}`, /sk-live-SECRET/);
    }
  } finally {
    server.close();
  }
});

/** HttpTransport: an approval poll answered with JSON that is not a status object is a denial, never a TypeError. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { governedTools, HttpTransport } from '../src/index.js';

test('HTTP: a poll answered `null` or `[]` denies the deferred call as a structured denial', async () => {
  let pollReply = 'null';
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/v1/evaluate')
        res.end(
          JSON.stringify({
            effect: 'DEFER',
            defer_token: 'apr-1',
            structured_denial: {
              code: 'POLICY_DEFER',
              human_message: 'needs a human',
              resolution: { type: 'pending_approval', approval_id: 'apr-1' },
            },
          }),
        );
      else res.end(pollReply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (pollReply of ['null', '[]', '7']) {
      let ran = false;
      const tools = governedTools(
        { act: { execute: async (_: unknown) => (ran = true) } },
        { agentId: 'a', transport: new HttpTransport(url), onDefer: 'block', pollIntervalMs: 20 },
      );
      const shown = (await tools.act.execute({})) as unknown as { denied?: boolean; effect?: string };
      assert.equal(shown.denied, true, pollReply);
      assert.equal(ran, false);
    }
  } finally {
    server.close();
  }
});

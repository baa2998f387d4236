/** HttpTransport: an approval poll answered 503 (the daemon restarting, INITIALIZING) is asked again, not taken as the end of the wait. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { governedTools, HttpTransport } from '../src/index.js';

test('HTTP: a poll that gets 503 not_ready waits on; the approved call then runs', async () => {
  let polls = 0;
  let evaluations = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/evaluate') {
        evaluations++;
        res.writeHead(200, { 'content-type': 'application/json' });
        if (evaluations > 1) return res.end(JSON.stringify({ effect: 'PERMIT' }));
        return res.end(
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
      }
      polls++;
      if (polls <= 2) {
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
        return res.end(JSON.stringify({ error: { code: 'not_ready', message: 'the daemon is INITIALIZING' } }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ approval_id: 'apr-1', status: 'approved' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    let ran = false;
    const tools = governedTools(
      { act: { execute: async (_: unknown) => ((ran = true), 'done') } },
      { agentId: 'a', transport: new HttpTransport(url), onDefer: 'block', pollIntervalMs: 20 },
    );
    const result = await tools.act.execute({});
    assert.equal(result, 'done', JSON.stringify(result));
    assert.equal(ran, true);
    assert.ok(polls >= 3);
  } finally {
    server.close();
  }
});

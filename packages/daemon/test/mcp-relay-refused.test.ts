/**
 * On the hot path, a tools/call POST the Streamable HTTP transport would refuse before reading it (an
 * Accept without text/event-stream, a body not labelled JSON, an unknown protocol version) is not
 * decided: it is refused as on the full path, with no permit recorded (and no approval spent) for a
 * call that never runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawSession, withRawProxy } from './mcp-raw.js';

test('a relayed call the transport would refuse is neither decided nor forwarded', async () => {
  await withRawProxy(
    (params) => String(params.call_id),
    async ({ up, p, url, decided }) => {
      const { sid } = await rawSession(url);
      const call = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: {} } });
      const H = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sid };
      for (const [id, headers] of [
        [1, { ...H, accept: 'application/json' }],
        [2, { ...H, 'content-type': 'text/plain' }],
        [3, { ...H, 'mcp-protocol-version': '1999-01-01' }],
      ] as const) {
        const r = await fetch(url, { method: 'POST', headers, body: call(id) });
        await r.text();
        assert.ok(r.status >= 400, `request ${id} is refused (${r.status})`);
      }
      assert.deepEqual(decided, [], 'nothing was decided');
      assert.equal(up.calls.length, 0, 'nothing reached the upstream');
      const ok = await fetch(url, { method: 'POST', headers: H, body: call(4) });
      assert.match(await ok.text(), /ran/);
      assert.equal(decided.length, 1);
      assert.equal(p.relayedCalls, 1, 'a well-formed call still takes the hot path');
    },
  );
});

/**
 * On the hot path, a tools/call the Streamable HTTP transport's schema refuses (an id past 2^53, which
 * JSON.parse rounds to another integer; a `_meta` that is not an object with a valid progressToken) is
 * not decided: an SDK upstream refuses it, so a permit recorded (and an approval spent) for it would
 * be for a call that never runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawSession, withRawProxy } from './mcp-raw.js';

test('a relayed call the transport schema would refuse is neither decided nor forwarded', async () => {
  await withRawProxy(
    (params) => String(params.call_id),
    async ({ up, p, url, decided }) => {
      const { post } = await rawSession(url);
      const params = '"name":"echo","arguments":{}';
      for (const body of [
        `{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{${params}}}`,
        `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{${params},"_meta":5}}`,
        `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{${params},"_meta":{"progressToken":true}}}`,
      ]) {
        const text = await post(body);
        assert.doesNotMatch(text, /"result"/, text);
      }
      assert.deepEqual(decided, [], 'nothing was decided');
      assert.equal(up.calls.length, 0, 'nothing reached the upstream');
      assert.match(await post(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{${params}}}`), /ran/);
      assert.equal(decided.length, 1);
      assert.equal(p.relayedCalls, 1, 'a well-formed call still takes the hot path');
    },
  );
});

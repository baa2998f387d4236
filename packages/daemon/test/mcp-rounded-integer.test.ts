import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawSession, withRawProxy } from './mcp-raw.js';

// The upstream gets the bytes: an integer JSON.parse rounds would be decided (and an approval spent) as another.
test('a tools/call whose arguments hold an integer JSON reads rounded is refused, neither decided nor forwarded', async () => {
  await withRawProxy(
    (params) => String(params.call_id),
    async ({ up, url, decided }) => {
      const { post } = await rawSession(url);
      const text = await post(
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"to":12345678901234567999}}}',
      );
      assert.match(text, /integer 12345678901234567999 reads as 12345678901234567000/);
      assert.deepEqual(decided, []);
      assert.equal(up.calls.length, 0);
      assert.match(
        await post('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"to":"12345678901234567999"}}}'),
        /ran/,
      );
      assert.equal(decided.length, 1);
    },
  );
});

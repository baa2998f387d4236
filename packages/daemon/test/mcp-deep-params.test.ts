/**
 * A tools/call whose params nest past what JSON readers follow (here in `_meta`, beside valid
 * arguments) is refused with -32602 before it is decided: no permit is recorded for a call that could
 * never be sent on, and the client hears why rather than a stack overflow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawSession, withRawProxy } from './mcp-raw.js';
import { unfaithfulJson } from '@faramesh/protocol';

/** An arguments object `depth` levels deep. */
const nest = (depth: number): Record<string, unknown> => {
  let v: Record<string, unknown> = { a: 1 };
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
};

test('a tools/call nested too deep outside its arguments is refused before any decision', async () => {
  await withRawProxy(
    (params) => String(params.tool_id),
    async ({ up, url, decided }) => {
      const { post } = await rawSession(url);
      const depth = 200_000;
      const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":1},"_meta":{"z":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
      const text = await post(body);
      assert.match(text, /-32602/, text.slice(0, 300));
      assert.match(text, /nests deeper than 64 levels/);
      assert.deepEqual(decided, [], 'nothing was decided (or recorded) for it');
      assert.equal(up.calls.length, 0);
      // The session goes on.
      const ok = await post('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"a":1}}}');
      assert.match(ok, /ran/);
      // Arguments as deep as the arguments check allows are not refused for sitting inside params.
      let deepest = 1;
      while (unfaithfulJson(nest(deepest + 1), 'arguments') === undefined) deepest++;
      const deep = await post(
        JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: nest(deepest) } }),
      );
      assert.match(deep, /ran/, deep.slice(0, 300));
    },
  );
});

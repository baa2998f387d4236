/**
 * Tool ids are case-sensitive in policy: `deny u/shell_exec` does not judge `u/Shell_Exec`. A server
 * that folds letter case (or Unicode form) when it looks a tool up would run `shell_exec` for it, so
 * a call naming a tool the server does not list, but one letter case or Unicode form from one it
 * does, is refused before any decision, whether or not the session listed the tools first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';
import { rawSession, rawUpstream } from './mcp-raw.js';

test('a tools/call naming a listed tool in another letter case or Unicode form is refused, undecided', async () => {
  const up = await rawUpstream(['shell_exec', 'read']);
  const decided: string[] = [];
  const p = new McpProxy({
    ...testProxyDeps([], {
      decide: (params) => {
        decided.push(String(params.tool_id));
        return { call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 };
      },
    }),
    servers: () => [{ name: 'u', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
  });
  const port = await p.listen(0, 'bot');
  try {
    // The session never listed the tools: the proxy lists them itself before deciding.
    const { post } = await rawSession(`http://127.0.0.1:${port}/mcp/u`);
    const call = (id: number, name: string) =>
      post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }));
    for (const [id, name] of [
      [1, 'Shell_Exec'],
      [2, 'SHELL_EXEC'],
      [3, 'ｓhell_exec'],
    ] as const) {
      const reply = await call(id, name);
      assert.match(reply, /-32602/, name);
      assert.match(reply, /lists 'shell_exec', which differs only in letter case or Unicode form/, name);
    }
    assert.deepEqual(decided, [], 'nothing was decided');
    assert.equal(up.calls.length, 0, 'nothing reached the server');
    // The listed spelling is decided and runs; so does a name the server does not list at all (it answers for that itself).
    assert.match(await call(4, 'shell_exec'), /"ran"/);
    assert.match(await call(5, 'write'), /"ran"/);
    assert.deepEqual(decided, ['u/shell_exec', 'u/write']);
  } finally {
    await p.close(0);
    up.server.close();
  }
});

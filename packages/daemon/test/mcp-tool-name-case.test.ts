/**
 * Tool ids are case-sensitive in policy: `deny u/shell_exec` does not judge `u/Shell_Exec`. A server
 * that folds letter case (or Unicode form) when it looks a tool up would run `shell_exec` for it, so
 * a call naming a tool the server does not list, but one letter case or Unicode form from one it
 * does, is refused before any decision, whether or not the session listed the tools first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';
import { rawSession, withRawProxy } from './mcp-raw.js';
import type { GovernParams } from '../src/wire/agent-protocol.js';

/** Posts a tools/call of `name` (no arguments) on the session `post` belongs to. */
const caller = (post: (body: string) => Promise<string>) => (id: number, name: string) =>
  post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }));
const toolId = (params: GovernParams) => String(params.tool_id);
const LISTED = ['shell_exec', 'read'];

test('a tools/call naming a listed tool in another letter case or Unicode form is refused, undecided', () =>
  withRawProxy(
    toolId,
    async ({ up, url, decided }) => {
      // The session never listed the tools: the proxy lists them itself before deciding.
      const call = caller((await rawSession(url)).post);
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
    },
    LISTED,
  ));

test('calls sent together before any listing all wait for the proxy’s own: none slips by as a case twin', () =>
  withRawProxy(
    toolId,
    async ({ up, url, decided }) => {
      const call = caller((await rawSession(url)).post);
      // The first starts the listing; the others arrive while it is under way.
      const replies = await Promise.all([call(1, 'read'), call(2, 'Shell_Exec'), call(3, 'SHELL_EXEC')]);
      assert.match(replies[0]!, /"ran"/);
      for (const reply of replies.slice(1)) assert.match(reply, /lists 'shell_exec', which differs only in letter case/);
      assert.deepEqual(decided, ['u/read']);
      assert.equal(up.calls.length, 1, 'only the listed spelling reached the server');
    },
    LISTED,
  ));

test('after list_changed a name the server no longer lists is checked again', async () => {
  // Lists `Exec` first, `exec` once `flip` has run (and said the list changed).
  const script = rawStdioServer(
    'u',
    `if (m.params.name === 'flip') { globalThis.flipped = true; send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }); }
      send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'ran' }] } });`,
    `send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: globalThis.flipped ? 'exec' : 'Exec', inputSchema: { type: 'object' } }] } });`,
  );
  const p = new McpProxy({
    ...testProxyDeps([], {
      decide: (params) => ({ call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 }),
    }),
    servers: () => [{ name: 'u', command: process.execPath, args: [script], env: {}, headers: {}, ref: 'test:1' }],
  });
  const port = await p.listen(0, 'bot');
  try {
    const { post } = await rawSession(`http://127.0.0.1:${port}/mcp/u`);
    const call = caller(post);
    assert.match(await post('{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'), /"Exec"/);
    assert.match(await call(2, 'Exec'), /"ran"/);
    assert.match(await call(3, 'flip'), /"ran"/);
    assert.match(await call(4, 'Exec'), /lists 'exec', which differs only in letter case/);
  } finally {
    await p.close(0);
  }
});

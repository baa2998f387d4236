/**
 * A tools/call the client cancels (`notifications/cancelled`) will never be answered: the upstream
 * drops it (MCP: a receiver of a cancellation does not reply). The proxy forgets it then: it no longer
 * holds the agent's completion gate, the session's drain does not wait for it, and the id may be used again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';
import { rawUpstream } from './mcp-raw.js';
import type { ProxyDeps } from '../src/mcp/proxy.js';

async function check(server: ProxyDeps['servers']): Promise<void> {
  const tasks = new TaskBook(() => {});
  const p = new McpProxy({ ...testProxyDeps([]), servers: server, tasks });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'cancel-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/ev`)));
    for (let i = 0; i < 3; i++) {
      const abort = new AbortController();
      const call = c.callTool({ name: 'write', arguments: {} }, undefined, { signal: abort.signal });
      call.catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(tasks.openWrites('bot').length >= 1, 'in flight: it holds the gate');
      abort.abort('changed my mind');
      await assert.rejects(call);
    }
    // The last cancellation reaches the proxy (the client does not wait for it to arrive).
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(tasks.openWrites('bot'), [], 'cancelled calls are no writes under way');
    const entries = (p as unknown as { sessions: Map<string, { session: { idle(): Promise<void> }; use: { calls: number } }> }).sessions;
    const session = [...entries.values()][0]!;
    assert.equal(session.use.calls, 0, 'no POST stream is left open: the session can idle out');
    const idle = await Promise.race([session.session.idle().then(() => true), new Promise((r) => setTimeout(() => r(false), 500))]);
    assert.equal(idle, true, 'nothing is left in flight');
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
    tasks.close();
  }
}

test('a cancelled call is forgotten: the full path to a stdio upstream', async () => {
  // A call to `write` (not read-only) is never answered, as a cancelled one is not.
  const script = rawStdioServer('ev');
  await check(() => [{ name: 'ev', command: process.execPath, args: [script], env: {}, headers: {}, ref: 'test:1' }]);
});

test('a cancelled call is forgotten: the hot path to a Streamable HTTP upstream', async () => {
  const up = await rawUpstream(['write'], Infinity);
  try {
    await check(() => [{ name: 'ev', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }]);
  } finally {
    up.server.closeAllConnections();
    up.server.close();
  }
});

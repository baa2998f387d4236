/**
 * A permitted tools/call still awaiting its answer is a write under way: it holds the agent's
 * completion gate (`no_uncommitted_writes`) until answered, on the hot path (relayed to a Streamable
 * HTTP upstream) and the full path (a stdio upstream) alike; a tool the upstream lists as read-only
 * does not, even when the client never listed the tools (the proxy lists them itself before a call).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import { everything, rawStdioServer, startEverything, testProxyDeps } from './mcp-test-deps.js';
import { rawUpstream } from './mcp-raw.js';
import type { ProxyDeps } from '../src/mcp/proxy.js';

const LONG = 'trigger-long-running-operation';

/** While a 1-second call to `tool` runs, what holds the gate; then after it is answered. */
async function check(server: ProxyDeps['servers'], relayed: boolean, tool: string, writes: boolean): Promise<void> {
  const tasks = new TaskBook(() => {});
  const p = new McpProxy({ ...testProxyDeps([]), servers: server, tasks });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'gate-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/ev`)));
    const call = c.callTool({ name: tool, arguments: { duration: 1, steps: 1 } });
    await new Promise((r) => setTimeout(r, 400));
    const during = tasks.openWrites('bot');
    await call;
    if (writes) {
      assert.equal(during.length, 1);
      assert.match(during[0]!, new RegExp(`^call \\d+ to ev/${tool}$`));
    } else assert.deepEqual(during, [], 'listed read-only (annotations.readOnlyHint): it writes nothing');
    assert.deepEqual(tasks.openWrites('bot'), [], 'answered: the gate is open again');
    assert.equal(p.relayedCalls > 0, relayed);
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
    tasks.close();
  }
}

test('a call in flight holds the completion gate: the hot path to a Streamable HTTP upstream', async () => {
  const up = await rawUpstream(['write'], 1000);
  try {
    await check(
      () => [{ name: 'ev', url: `http://127.0.0.1:${up.port}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
      true,
      'write',
      true,
    );
  } finally {
    up.server.close();
  }
});

test('a call in flight holds the completion gate: the full path to a stdio upstream', async () => {
  const script = rawStdioServer('ev', `setTimeout(() => send({ jsonrpc: '2.0', id: m.id, result: { content: [] } }), 1000);`);
  await check(() => [{ name: 'ev', command: process.execPath, args: [script], env: {}, headers: {}, ref: 'test:1' }], false, 'write', true);
});

test('a call to a tool listed read-only holds no gate: the hot path to a Streamable HTTP upstream', async () => {
  const { port: upstreamPort, child: upstream } = await startEverything();
  try {
    await check(
      () => [{ name: 'ev', url: `http://127.0.0.1:${upstreamPort}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }],
      true,
      LONG,
      false,
    );
  } finally {
    upstream.kill();
  }
});

test('a call to a tool listed read-only holds no gate: the full path to a stdio upstream', async () => {
  await check(
    () => [{ name: 'ev', command: process.execPath, args: [everything, 'stdio'], env: {}, headers: {}, ref: 'test:1' }],
    false,
    LONG,
    false,
  );
});

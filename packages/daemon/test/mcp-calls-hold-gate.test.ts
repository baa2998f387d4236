/**
 * A permitted tools/call still awaiting its answer is a write under way: it holds the agent's
 * completion gate (`no_uncommitted_writes`) until answered, on the hot path (relayed to a Streamable
 * HTTP upstream) and the full path (a stdio upstream) alike; a tool the upstream lists as read-only does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import { everything, startEverything, testProxyDeps } from './mcp-test-deps.js';
import type { ProxyDeps } from '../src/mcp/proxy.js';

const LONG = 'trigger-long-running-operation';

/** While a 1-second call runs, what holds the gate; then after it is answered. */
async function heldDuring(c: Client, tasks: TaskBook): Promise<{ during: string[]; after: string[] }> {
  const call = c.callTool({ name: LONG, arguments: { duration: 1, steps: 1 } });
  await new Promise((r) => setTimeout(r, 400));
  const during = tasks.openWrites('bot');
  await call;
  return { during, after: tasks.openWrites('bot') };
}

async function check(server: ProxyDeps['servers'], relayed: boolean): Promise<void> {
  const tasks = new TaskBook(() => {});
  const p = new McpProxy({ ...testProxyDeps([]), servers: server, tasks });
  const port = await p.listen(0, 'bot');
  const c = new Client({ name: 'gate-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/ev`)));
    // Nothing listed yet: the proxy cannot know the tool is read-only, so the call holds the gate.
    const unknown = await heldDuring(c, tasks);
    assert.equal(unknown.during.length, 1);
    assert.match(unknown.during[0]!, new RegExp(`^call \\d+ to ev/${LONG}$`));
    assert.deepEqual(unknown.after, [], 'answered: the gate is open again');
    // Listed as read-only (annotations.readOnlyHint): it writes nothing.
    await c.listTools();
    assert.deepEqual((await heldDuring(c, tasks)).during, []);
    assert.equal(p.relayedCalls > 0, relayed);
  } finally {
    await c.close().catch(() => {});
    await p.close(0);
    tasks.close();
  }
}

test('a call in flight holds the completion gate: the hot path to a Streamable HTTP upstream', async () => {
  const { port: upstreamPort, child: upstream } = await startEverything();
  try {
    await check(() => [{ name: 'ev', url: `http://127.0.0.1:${upstreamPort}/mcp`, args: [], env: {}, headers: {}, ref: 'test:1' }], true);
  } finally {
    upstream.kill();
  }
});

test('a call in flight holds the completion gate: the full path to a stdio upstream', async () => {
  await check(() => [{ name: 'ev', command: process.execPath, args: [everything, 'stdio'], env: {}, headers: {}, ref: 'test:1' }], false);
});

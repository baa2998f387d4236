/**
 * "A tool counts as writing until a tools/list in the same session says it is read-only" (docs/mcp.md):
 * the latest listing decides. A tool the upstream once marked read-only, and lists again without the
 * mark (after notifications/tools/list_changed), writes: its tasks hold the completion gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';
import { rawSession } from './mcp-raw.js';

test('a tool listed read-only, then listed again without the mark, counts as writing', async () => {
  const script = rawStdioServer(
    'relisting',
    `globalThis.tasks = (globalThis.tasks ?? 0) + 1;
     const now = new Date().toISOString();
     send({ jsonrpc: '2.0', id: m.id, result: { task: { taskId: 'task-' + globalThis.tasks, status: 'working', ttl: null, createdAt: now, lastUpdatedAt: now } } });`,
    // Read-only in the first listing only.
    `globalThis.lists = (globalThis.lists ?? 0) + 1;
     send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'sync', inputSchema: { type: 'object' }, annotations: globalThis.lists === 1 ? { readOnlyHint: true } : {} }] } });`,
  );
  const tasks = new TaskBook(() => {});
  const proxy = new McpProxy(testProxyDeps([script], { tasks }));
  const port = await proxy.listen(0, 'bot');
  try {
    const { post } = await rawSession(`http://127.0.0.1:${port}/mcp/h`);
    const call = (id: number) =>
      post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'sync', arguments: {}, task: {} } }));
    assert.match(await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })), /readOnlyHint/);
    assert.match(await call(2), /task-1/);
    assert.deepEqual(tasks.openWrites('bot'), [], 'read-only while listed so');
    assert.doesNotMatch(await post(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' })), /readOnlyHint/);
    assert.match(await call(4), /task-2/);
    assert.deepEqual(tasks.openWrites('bot'), ['h/task-2'], 'the latest listing says it writes');
  } finally {
    await proxy.close(0);
    tasks.close();
  }
});

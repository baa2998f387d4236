/**
 * A task's time to live is the server's word, never the client's: a server that answers `ttl: null`
 * keeps the task without limit, so an agent asking `task: { ttl: 1 }` cannot have its running write
 * marked expired at once, which would free the completion gate (`no_uncommitted_writes`) while the
 * write goes on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';
import { rawSession } from './mcp-raw.js';

test('a task the server keeps without limit stays an open write, whatever TTL the client asked for', async () => {
  const server = rawStdioServer(
    'tasky',
    `send({ jsonrpc: '2.0', id: m.id, result: { task: { taskId: 'task-1', status: 'working', ttl: null, createdAt: new Date().toISOString(), lastUpdatedAt: new Date().toISOString() } } });`,
  );
  const events: [string, string][] = [];
  const tasks = new TaskBook((e) => events.push([e.task_id, e.status]));
  const proxy = new McpProxy(testProxyDeps([server], { tasks, filterTools: () => false }));
  const port = await proxy.listen(0, 'bot');
  try {
    const { post } = await rawSession(`http://127.0.0.1:${port}/mcp/h`);
    const started = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'export', arguments: {}, task: { ttl: 1 } } }),
    );
    assert.match(started, /task-1/);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(events, [['task-1', 'working']]);
    assert.deepEqual(tasks.openWrites('bot'), ['h/task-1']);
  } finally {
    await proxy.close(0);
    tasks.close();
  }
});

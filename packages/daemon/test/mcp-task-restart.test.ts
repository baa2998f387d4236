/**
 * "A task whose session ends, or whose server restarts, is `abandoned`" (docs/mcp.md): a stdio server
 * that exits takes its tasks with it, so the restarted one can never report their end. They are
 * recorded as abandoned at once, and stop holding the completion gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpProxy } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import { rawStdioServer, testProxyDeps } from './mcp-test-deps.js';
import { rawSession } from './mcp-raw.js';

test('a stdio server that restarts abandons the tasks it was running: a RUNTIME_GAP record, and the gate no longer waits on them', async () => {
  const server = rawStdioServer(
    'tasky',
    `if (m.params.name === 'crash') process.exit(1);
     send({ jsonrpc: '2.0', id: m.id, result: { task: { taskId: 'task-1', status: 'working', ttl: null, createdAt: new Date().toISOString(), lastUpdatedAt: new Date().toISOString() } } });`,
  );
  const events: [string, string, string | undefined][] = [];
  const tasks = new TaskBook((e) => events.push([e.task_id, e.status, e.code]));
  const proxy = new McpProxy(testProxyDeps([server], { tasks, filterTools: () => false }));
  const port = await proxy.listen(0, 'bot');
  try {
    const { post } = await rawSession(`http://127.0.0.1:${port}/mcp/h`);
    const started = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'export', arguments: {}, task: {} } }),
    );
    assert.match(started, /task-1/);
    assert.deepEqual(tasks.openWrites('bot'), ['h/task-1']);
    const lost = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'crash', arguments: {} } }));
    assert.match(lost, /exited while this request was in flight; it is being restarted/);
    assert.deepEqual(events, [
      ['task-1', 'working', undefined],
      ['task-1', 'abandoned', 'RUNTIME_GAP'],
    ]);
    assert.deepEqual(tasks.openWrites('bot'), [], 'no process is left to finish it');
  } finally {
    await proxy.close(0);
    tasks.close();
  }
});

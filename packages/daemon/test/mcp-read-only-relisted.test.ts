/**
 * "A tool counts as writing until a tools/list in the same session says it is read-only" (docs/mcp.md):
 * the latest listing decides. A tool the upstream once marked read-only, and lists again without the
 * mark (after notifications/tools/list_changed), writes: its tasks hold the completion gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpProxy } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import { testProxyDeps } from './mcp-test-deps.js';
import { rawSession } from './mcp-raw.js';

test('a tool listed read-only, then listed again without the mark, counts as writing', async () => {
  const script = join(mkdtempSync(join(tmpdir(), 'fm-mcp-')), 'relisting.mjs');
  writeFileSync(
    script,
    `let buf = '', lists = 0, tasks = 0;
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    const now = new Date().toISOString();
    if (m.method === 'initialize')
      send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'r', version: '1' } } });
    else if (m.method === 'tools/list')
      send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'sync', inputSchema: { type: 'object' }, annotations: lists++ === 0 ? { readOnlyHint: true } : {} }] } });
    else if (m.method === 'tools/call')
      send({ jsonrpc: '2.0', id: m.id, result: { task: { taskId: 'task-' + ++tasks, status: 'working', ttl: null, createdAt: now, lastUpdatedAt: now } } });
  }
});
process.stdin.on('end', () => process.exit(0));
`,
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

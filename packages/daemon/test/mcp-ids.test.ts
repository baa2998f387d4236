/**
 * Replies are matched to requests by id: a client request reusing the id of one still in flight is
 * refused, whatever its method, so it cannot take the first one's place (an unfiltered tools/list,
 * an untracked task that the completion gate would never see).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { McpProxy } from '../src/mcp/proxy.js';
import { TaskBook } from '../src/mcp/tasks.js';
import { testProxyDeps } from './mcp-test-deps.js';

const header = fileURLToPath(new URL('../../../cli/test/fixtures/mcp-header-server.mjs', import.meta.url));
const jobs = fileURLToPath(new URL('../../../cli/test/fixtures/mcp-task-server.mjs', import.meta.url));

function proxy(args: string[], visible: (tool: string) => boolean, events: { status: string }[]): McpProxy {
  return new McpProxy(testProxyDeps(args, { visible: (_agent, tool) => visible(tool), tasks: new TaskBook((e) => void events.push(e)) }));
}

async function post(url: string, body: unknown, sid?: string): Promise<{ sid: string | null; text: string }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(sid ? { 'mcp-session-id': sid } : {}),
    },
    body: JSON.stringify(body),
  });
  return { sid: r.headers.get('mcp-session-id'), text: await r.text() };
}

async function session(url: string): Promise<string> {
  const init = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'ids-test', version: '1' } };
  const { sid } = await post(url, { jsonrpc: '2.0', id: 0, method: 'initialize', params: init });
  assert.ok(sid);
  await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, sid);
  return sid;
}

const toolNames = (text: string) => [...text.matchAll(/"name":"([^"]+)"/g)].map((m) => m[1]);

test('a request reusing a live id cannot unfilter tools/list', async () => {
  const p = proxy([header, 'stdio'], () => false, []);
  const port = await p.listen(0, 'bot');
  const url = `http://127.0.0.1:${port}/mcp/h`;
  try {
    const sid = await session(url);
    assert.deepEqual(toolNames((await post(url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, sid)).text), []);
    const r = await post(
      url,
      [
        { jsonrpc: '2.0', id: 9, method: 'tools/list' },
        { jsonrpc: '2.0', id: 9, method: 'ping' },
      ],
      sid,
    );
    assert.deepEqual(toolNames(r.text), [], r.text);
  } finally {
    await p.close(0);
  }
});

test('a request reusing the id of a task-augmented call cannot hide its task', async () => {
  const events: { status: string }[] = [];
  const p = proxy([jobs], () => true, events);
  const port = await p.listen(0, 'bot');
  const url = `http://127.0.0.1:${port}/mcp/h`;
  try {
    const sid = await session(url);
    const call = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'export', arguments: {}, task: { ttl: 60_000 } } };
    await post(url, [call, { jsonrpc: '2.0', id: 5, method: 'ping' }], sid);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(events[0]?.status, 'working', 'the task started by the permitted call is tracked');
  } finally {
    await p.close(0);
  }
});

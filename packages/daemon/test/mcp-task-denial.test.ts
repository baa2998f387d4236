/**
 * A task-augmented tools/call expects a CreateTaskResult: a denied or deferred one is answered with
 * a JSON-RPC error carrying the denial, so the SDK client reports the denial's text (and approval
 * id) rather than a schema error about a missing `task`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { decideAs, everythingProxy } from './mcp-test-deps.js';

test('a deferred task-augmented call tells the SDK client why, with its approval id', async () => {
  const { proxy, url } = await everythingProxy(
    decideAs('DEFER', {
      defer_token: 'apr-1',
      denial: {
        code: 'POLICY_DEFER',
        human_message: 'research needs a human',
        resolution: { type: 'pending_approval', approval_id: 'apr-1' },
      },
    }),
  );
  const c = new Client({ name: 'task-denial-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(url));
    assert.equal((await c.listTools()).tools.find((t) => t.name === 'simulate-research-query')?.execution?.taskSupport, 'required');
    const events = [];
    const stream = c.experimental.tasks.callToolStream(
      { name: 'simulate-research-query', arguments: { topic: 'x' } },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    );
    for await (const e of stream) events.push(e);
    const last = events.at(-1)!;
    assert.equal(last.type, 'error', JSON.stringify(events));
    const error = (last as { error: McpError }).error;
    assert.match(error.message, /research needs a human \(POLICY_DEFER\)\. Approval apr-1 is pending/);
    assert.equal((error.data as { approval_id?: string }).approval_id, 'apr-1');
  } finally {
    await c.close().catch(() => {});
    await proxy.close(0);
  }
});

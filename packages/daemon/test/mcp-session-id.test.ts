/**
 * Each MCP client session is a session for `session { }` bounds and session budgets: its calls carry
 * a `session_id` of their own, so one session's budget or max_duration does not spill into another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { GovernParams } from '../src/wire/agent-protocol.js';
import { McpProxy } from '../src/mcp/proxy.js';
import { testProxyDeps } from './mcp-test-deps.js';

const fixture = fileURLToPath(new URL('../../../cli/test/fixtures/mcp-header-server.mjs', import.meta.url));

test('each MCP client session decides its calls under a session id of its own', async () => {
  const seen: Partial<GovernParams>[] = [];
  const p = new McpProxy(
    testProxyDeps([fixture, 'stdio'], {
      decide: (params) => {
        seen.push(params);
        return { call_id: params.call_id ?? '', action_id: 'action-1', effect: 'PERMIT', latency_ms: 0 };
      },
    }),
    { perAgent: 4, idleMs: 60_000 },
  );
  const port = await p.listen(0, 'bot');
  const clients: Client[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const c = new Client({ name: 'session-id-test', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp/h`)));
      clients.push(c);
      await c.callTool({ name: 'plain', arguments: {} });
      await c.callTool({ name: 'plain', arguments: {} });
    }
    assert.equal(seen.length, 4);
    const ids = seen.map((s) => s.session_id);
    assert.ok(
      ids.every((id) => typeof id === 'string' && id.startsWith('mcp-')),
      `session ids: ${JSON.stringify(ids)}`,
    );
    assert.equal(ids[0], ids[1], 'one client session, one session id');
    assert.equal(ids[2], ids[3]);
    assert.notEqual(ids[0], ids[2], 'two client sessions, two session ids');
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await p.close(0);
  }
});

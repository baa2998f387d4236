/**
 * A client keeps the tool schemas it listed in an earlier session: the stdio bridge opens a new
 * session without telling its client (the daemon restarted, the session sat idle), and an SDK client
 * that reconnects keeps its cache. A denial in a session that has not listed tools must still be a
 * result that client accepts for a tool with an outputSchema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { assertSchemaDenials, decideAs, everythingProxy } from './mcp-test-deps.js';

test('a denial before any tools/list in the session is valid for a tool with an outputSchema', async () => {
  const { proxy, url } = await everythingProxy(decideAs('DENY'));
  const c = new Client({ name: 'denial-unlisted-test', version: '1.0.0' });
  try {
    await c.connect(new StreamableHTTPClientTransport(url));
    assert.ok((await c.listTools()).tools.find((t) => t.name === 'get-structured-content')?.outputSchema);
    // A new session, as the bridge opens one: the client's cached schemas stay, the proxy's are new.
    await c.close();
    await c.connect(new StreamableHTTPClientTransport(url));
    // The proxy learned the schemas itself: the denial in _meta for the tool with one, in structuredContent for the other.
    await assertSchemaDenials(c);
  } finally {
    await c.close().catch(() => {});
    await proxy.close(0);
  }
});

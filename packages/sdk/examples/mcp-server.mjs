// An MCP server of your own: every tools/call is decided in process; a denial is an isError result.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { z } from 'zod';
import { governMcpServer } from '@faramesh/sdk';

const server = governMcpServer(new McpServer({ name: 'payments', version: '1.0.0' }), { agentId: 'bot' });
server.registerTool('searchDocs', { inputSchema: { q: z.string() } }, async ({ q }) => ({
  content: [{ type: 'text', text: `3 results for ${q}` }],
}));
server.registerTool('payout', { inputSchema: { amount: z.number() } }, async () => ({ content: [{ type: 'text', text: 'paid' }] }));

// A client, as your MCP host would be (here over an in-memory pair; stdio or HTTP alike).
const [a, b] = InMemoryTransport.createLinkedPair();
const client = new Client({ name: 'host', version: '1.0.0' });
await Promise.all([server.connect(a), client.connect(b)]);
const found = await client.callTool({ name: 'searchDocs', arguments: { q: 'fees' } });
const denied = await client.callTool({ name: 'payout', arguments: { amount: 9 } });
await client.close();
console.log(
  JSON.stringify([
    ['searchDocs', found.content[0].text],
    ['payout', denied.structuredContent],
  ]),
);

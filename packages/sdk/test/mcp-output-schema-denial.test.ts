/**
 * governMcpServer: a denied call to a tool with an outputSchema reaches a client that listed its tools
 * (as every real client does) as the denial, not as the client's schema error. The official client
 * checks `structuredContent` against the listed schema even in an isError result, so the denial must
 * not be there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { governMcpServer, StubTransport } from '../src/index.js';

interface Denial {
  code: string;
  effect: string;
}

async function listedThenCalled(server: McpServer | Server, name: string) {
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([server.connect(a), client.connect(b)]);
  try {
    await client.listTools();
    return await client.callTool({ name, arguments: { amount: 9 } });
  } finally {
    await client.close();
    await server.close();
  }
}

test('McpServer: a denied tool with an outputSchema answers the denial in _meta, which a client that listed it accepts', async () => {
  const server = new McpServer({ name: 'pay', version: '1.0.0' });
  governMcpServer(server, { agentId: 'bot', transport: new StubTransport({ refund: 'defer' }) });
  let ran = false;
  const body = async () => ((ran = true), { content: [{ type: 'text' as const, text: 'ok' }], structuredContent: { paid: true } });
  const io = { inputSchema: { amount: z.number() }, outputSchema: { paid: z.boolean() } };
  server.registerTool('payout', io, body);
  server.registerTool('refund', io, body);
  server.registerTool('note', { inputSchema: { amount: z.number() } }, async () => ({ content: [] }));
  const paid = await listedThenCalled(server, 'payout');
  assert.equal(paid.isError, true);
  assert.equal(paid.structuredContent, undefined);
  assert.equal((paid._meta?.['faramesh/denial'] as Denial).code, 'POLICY_DENY');
  assert.match((paid.content as { text: string }[])[0]!.text, /\(POLICY_DENY\)/);
  assert.equal(ran, false);
});

test('McpServer: a denied tool without an outputSchema keeps the denial in structuredContent', async () => {
  const server = new McpServer({ name: 'pay', version: '1.0.0' });
  governMcpServer(server, { agentId: 'bot', transport: new StubTransport({ refund: 'defer' }) });
  server.registerTool('refund', { inputSchema: { amount: z.number() } }, async () => ({ content: [] }));
  const deferred = await listedThenCalled(server, 'refund');
  assert.equal((deferred.structuredContent as unknown as Denial).effect, 'DEFER');
});

test('low-level Server: its own tools/list says which tools have an outputSchema', async () => {
  const server = new Server({ name: 'pay', version: '1.0.0' }, { capabilities: { tools: {} } });
  const input = { type: 'object' as const, properties: { amount: { type: 'number' } } };
  const output = { type: 'object' as const, properties: { paid: { type: 'boolean' } }, required: ['paid'] };
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      { name: 'payout', inputSchema: input, outputSchema: output },
      { name: 'note', inputSchema: input },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, () => ({ content: [], structuredContent: { paid: true } }));
  governMcpServer(server, { agentId: 'bot', transport: new StubTransport({}) });
  const paid = await listedThenCalled(server, 'payout');
  assert.equal((paid._meta?.['faramesh/denial'] as Denial).code, 'POLICY_DENY');
  const server2 = new Server({ name: 'pay', version: '1.0.0' }, { capabilities: { tools: {} } });
  server2.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [{ name: 'note', inputSchema: input }] }));
  server2.setRequestHandler(CallToolRequestSchema, () => ({ content: [] }));
  governMcpServer(server2, { agentId: 'bot', transport: new StubTransport({}) });
  const noted = await listedThenCalled(server2, 'note');
  assert.equal((noted.structuredContent as unknown as Denial).code, 'POLICY_DENY');
});

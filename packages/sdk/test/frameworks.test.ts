/**
 * Every adapter against a real daemon, inside the framework's own loop with a scripted model: the
 * permitted tool runs, the denied one never does and its denial reaches the model as the tool's
 * result, a deferred one carries its approval id, and `block` runs it once the operator approves.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isStepCount, streamText, tool as aiTool } from 'ai';
import { tool as lcTool, StructuredTool, DynamicStructuredTool } from '@langchain/core/tools';
import type { ToolMessage } from '@langchain/core/messages';
import {
  Agent as OpenAIAgent,
  run,
  tool as oaTool,
  Usage,
  setTracingDisabled,
  type Model,
  type ModelRequest,
  type ModelResponse,
} from '@openai/agents';
import { Agent as MastraAgent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { z } from 'zod';
import { governedTools, governMcpServer, SocketTransport } from '../src/index.js';
import { approveFromCli, startDaemon, type TestDaemon } from './daemon.js';
import { scriptedModel } from './models.js';

let d: TestDaemon;
let transport: SocketTransport;
before(() => {
  d = startDaemon();
  transport = new SocketTransport(d.socket);
});
after(() => d.stop());

interface Denial {
  denied: true;
  effect: string;
  code: string;
  message: string;
  approvalId?: string;
  resolution: { type: string };
}

test('Vercel AI SDK streamText: the permitted tool streams its result, the denial reaches the model as the tool result', async () => {
  const ran: string[] = [];
  const tools = governedTools(
    {
      searchDocs: aiTool({ inputSchema: z.object({ q: z.string() }), execute: async ({ q }) => (ran.push('search'), `found ${q}`) }),
      payout: aiTool({ inputSchema: z.object({ amount: z.number() }), execute: async () => (ran.push('payout'), 'paid') }),
    },
    { agentId: 'bot', transport },
  );
  const model = scriptedModel(
    [
      { name: 'searchDocs', input: { q: 'fees' } },
      { name: 'payout', input: { amount: 9 } },
    ],
    'payout blocked',
  );
  const result = streamText({ model, tools, prompt: 'go', stopWhen: isStepCount(2) });
  assert.equal(await result.text, 'payout blocked');
  const steps = await result.steps;
  const outputs = Object.fromEntries(steps[0]!.toolResults.map((r) => [r.toolName, r.output]));
  assert.equal(outputs.searchDocs, 'found fees');
  assert.equal((outputs.payout as Denial).code, 'POLICY_DENY');
  assert.deepEqual(ran, ['search']);
  assert.match(JSON.stringify(model.doStreamCalls[1]!.prompt), /platform team only/);
});

test('LangChain.js: tool() and a StructuredTool subclass stay LangChain tools; ToolNode-style invoke gets a ToolMessage with the denial', async () => {
  const ran: string[] = [];
  class Refund extends StructuredTool {
    name = 'refund';
    description = 'refund an order';
    schema = z.object({ amount: z.number() });
    async _call({ amount }: { amount: number }) {
      ran.push(`refund ${amount}`);
      return 'refunded';
    }
  }
  const raw: StructuredTool[] = [
    lcTool(async ({ q }: { q: string }) => (ran.push('search'), `found ${q}`), {
      name: 'searchDocs',
      description: 'search',
      schema: z.object({ q: z.string() }),
    }),
    lcTool(async () => (ran.push('payout'), ['paid', { receipt: 1 }]), {
      name: 'payout',
      description: 'pay out',
      schema: z.object({ amount: z.number() }),
      responseFormat: 'content_and_artifact',
    }),
    new Refund(),
  ];
  const [search, payout, refund] = governedTools(raw, { agentId: 'bot', transport });
  assert.ok(search instanceof DynamicStructuredTool && refund instanceof Refund && refund instanceof StructuredTool);
  assert.equal(search.name, 'searchDocs');
  const call = (name: string, args: Record<string, unknown>) => ({ type: 'tool_call' as const, id: `id-${name}`, name, args });
  const found = (await search.invoke(call('searchDocs', { q: 'fees' }))) as ToolMessage;
  assert.equal(found.content, 'found fees');
  assert.equal(found.tool_call_id, 'id-searchDocs');
  const paid = (await payout!.invoke(call('payout', { amount: 9 }))) as ToolMessage;
  assert.equal((JSON.parse(String(paid.content)) as Denial).code, 'POLICY_DENY');
  assert.equal((paid.artifact as Denial).message, 'platform team only', 'content_and_artifact: the artifact is the structured denial');
  const deferred = (await refund!.invoke(call('refund', { amount: 5 }))) as ToolMessage;
  const denial = JSON.parse(String(deferred.content)) as Denial;
  assert.equal(denial.effect, 'DEFER');
  assert.match(String(denial.approvalId), /^apr-/);
  // Plain invoke (no tool call): the parsed result, not a message.
  assert.equal(await search.invoke({ q: 'x' }), 'found x');
  assert.deepEqual(ran, ['search', 'search']);
});

/** An OpenAI Agents JS model that asks for these calls, then answers with text; it keeps what it was sent. */
function scriptedAgentsModel(calls: { name: string; input: Record<string, unknown> }[]): Model & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    requests,
    async getResponse(request: ModelRequest): Promise<ModelResponse> {
      requests.push(request);
      if (requests.length === 1)
        return {
          usage: new Usage(),
          output: calls.map((c, i) => ({
            type: 'function_call',
            callId: `c${i}`,
            name: c.name,
            arguments: JSON.stringify(c.input),
            status: 'completed',
          })),
        };
      return {
        usage: new Usage(),
        output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'done' }] }],
      };
    },
    getStreamedResponse() {
      throw new Error('not scripted');
    },
  };
}

test('OpenAI Agents JS: run() with governed tools; the denial is the function call output; block runs the refund once approved', async () => {
  setTracingDisabled(true);
  const ran: string[] = [];
  const raw = [
    oaTool({
      name: 'searchDocs',
      description: 'search',
      parameters: z.object({ q: z.string() }),
      execute: async ({ q }) => (ran.push('search'), `found ${q}`),
    }),
    oaTool({
      name: 'payout',
      description: 'pay',
      parameters: z.object({ amount: z.number() }),
      execute: async () => (ran.push('payout'), 'paid'),
    }),
  ];
  const model = scriptedAgentsModel([
    { name: 'searchDocs', input: { q: 'fees' } },
    { name: 'payout', input: { amount: 9 } },
  ]);
  const agent = new OpenAIAgent({ name: 'ops', instructions: 'x', model, tools: governedTools(raw, { agentId: 'bot', transport }) });
  const result = await run(agent, 'go');
  assert.equal(result.finalOutput, 'done');
  const outputs = JSON.stringify(model.requests[1]!.input);
  assert.match(outputs, /found fees/);
  assert.match(outputs, /POLICY_DENY/);
  assert.deepEqual(ran, ['search']);

  const refund = oaTool({
    name: 'refund',
    description: 'refund',
    parameters: z.object({ amount: z.number() }),
    execute: async ({ amount }) => (ran.push(`refund ${amount}`), 'refunded'),
  });
  const blocking = new OpenAIAgent({
    name: 'ops',
    instructions: 'x',
    model: scriptedAgentsModel([{ name: 'refund', input: { amount: 31 } }]),
    tools: governedTools([refund], { agentId: 'bot', transport, onDefer: 'block', pollIntervalMs: 50 }),
  });
  const running = run(blocking, 'refund');
  await approveFromCli(d, (args) => args.amount === 31);
  assert.equal((await running).finalOutput, 'done');
  assert.deepEqual(ran, ['search', 'refund 31']);
});

test('Mastra: an Agent with a governed tools registry; permit runs, deny and defer come back to the model as results', async () => {
  const ran: string[] = [];
  const make = (id: string) =>
    createTool({
      id,
      description: id,
      inputSchema: z.object({ amount: z.number().optional(), q: z.string().optional() }),
      execute: async () => (ran.push(id), `${id} ok`),
    });
  const tools = governedTools(
    { searchDocs: make('searchDocs'), payout: make('payout'), refund: make('refund') },
    { agentId: 'bot', transport },
  );
  const agent = new MastraAgent({
    id: 'ops',
    name: 'ops',
    instructions: 'x',
    // Mastra runs AI SDK v4-spec models; its declared type for them is narrower than what it accepts.
    model: scriptedModel([
      { name: 'searchDocs', input: { q: 'fees' } },
      { name: 'payout', input: { amount: 9 } },
      { name: 'refund', input: { amount: 4 } },
    ]) as never,
    tools,
  });
  const result = await agent.generate('go', { maxSteps: 3 });
  assert.equal(result.text, 'done');
  const outputs = Object.fromEntries(
    result.toolResults.map((r) => {
      const p =
        (r as { payload?: { toolName: string; result: unknown } }).payload ?? (r as unknown as { toolName: string; result: unknown });
      return [p.toolName, p.result];
    }),
  );
  assert.equal(outputs.searchDocs, 'searchDocs ok');
  assert.equal((outputs.payout as Denial).code, 'POLICY_DENY');
  assert.equal((outputs.refund as Denial).effect, 'DEFER');
  assert.deepEqual(ran, ['searchDocs']);
});

test('MCP server helper: every tools/call is decided, tools registered before and after alike; a denial is a valid CallToolResult', async () => {
  const ran: string[] = [];
  const server = new McpServer({ name: 'docs', version: '1.0.0' });
  server.registerTool(
    'searchDocs',
    { inputSchema: { q: z.string() } },
    async ({ q }) => (ran.push('search'), { content: [{ type: 'text', text: `found ${q}` }] }),
  );
  governMcpServer(server, { agentId: 'bot', transport });
  server.registerTool(
    'payout',
    { inputSchema: { amount: z.number() }, outputSchema: { paid: z.boolean() } },
    async () => (ran.push('payout'), { content: [{ type: 'text', text: 'paid' }], structuredContent: { paid: true } }),
  );
  server.registerTool(
    'refund',
    { inputSchema: { amount: z.number() } },
    async () => (ran.push('refund'), { content: [{ type: 'text', text: 'refunded' }] }),
  );
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await Promise.all([server.connect(a), client.connect(b)]);
  try {
    const found = await client.callTool({ name: 'searchDocs', arguments: { q: 'fees' } });
    assert.deepEqual(found.content, [{ type: 'text', text: 'found fees' }]);
    // The client validates structuredContent against the tool's outputSchema (once listed), even in an
    // isError result: that tool's denial is in _meta.
    const paid = await client.callTool({ name: 'payout', arguments: { amount: 9 } });
    assert.equal(paid.isError, true);
    assert.equal((paid._meta?.['faramesh/denial'] as unknown as Denial).code, 'POLICY_DENY');
    assert.match((paid.content as { text: string }[])[0]!.text, /platform team only \(POLICY_DENY\)/);
    const deferred = await client.callTool({ name: 'refund', arguments: { amount: 2 } });
    assert.equal((deferred.structuredContent as unknown as Denial).effect, 'DEFER');
    assert.deepEqual(ran, ['search']);
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['payout', 'refund', 'searchDocs']);
  } finally {
    await client.close();
    await server.close();
  }
});

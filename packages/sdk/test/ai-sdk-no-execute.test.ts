/**
 * A ToolSet may hold tools this process never runs: an AI SDK tool without `execute` (its call goes
 * back to the application, or the provider runs it) and an OpenAI Agents JS hosted tool. Wrapping
 * such a set must not throw, nor (under autoload) every generateText given it; its other tools are
 * still decided before they run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, isStepCount, tool as aiTool } from 'ai';
import { z } from 'zod';
import { governedTools, StubTransport } from '../src/index.js';
import { scriptedModel } from './models.js';

test('AI SDK: tools without execute (client-side, provider-executed) pass through; the rest stay governed', async () => {
  const stub = new StubTransport({ searchDocs: 'permit' });
  const ran: string[] = [];
  const askUser = aiTool({ description: 'answered by the client', inputSchema: z.object({ q: z.string() }) });
  // As the AI SDK's provider-executed tool factory makes it (a provider's hosted web search).
  const webSearch = { type: 'provider', isProviderExecuted: true, id: 'acme.web_search', args: {}, inputSchema: z.object({}) } as never;
  const hosted = { type: 'hosted_tool', name: 'web_search', providerData: {} };
  const tools = governedTools(
    {
      searchDocs: aiTool({ inputSchema: z.object({ q: z.string() }), execute: async () => (ran.push('search'), 'found') }),
      payout: aiTool({ inputSchema: z.object({ amount: z.number() }), execute: async () => (ran.push('payout'), 'paid') }),
      askUser,
      webSearch,
    },
    { agentId: 'bot', transport: stub },
  );
  assert.equal(tools.askUser, askUser);
  assert.equal(tools.webSearch, webSearch);
  assert.equal(governedTools([hosted], { agentId: 'bot', transport: stub })[0], hosted);

  const result = await generateText({
    model: scriptedModel([
      { name: 'searchDocs', input: { q: 'fees' } },
      { name: 'payout', input: { amount: 9 } },
      { name: 'askUser', input: { q: 'sure?' } },
    ]),
    tools,
    prompt: 'go',
    stopWhen: isStepCount(2),
  });
  assert.deepEqual(ran, ['search'], 'payout is not in the stub: denied, never run');
  assert.deepEqual(
    stub.calls.map((c) => c.tool_id),
    ['searchDocs', 'payout'],
  );
  assert.ok(result.steps[0]!.toolCalls.some((c) => c.toolName === 'askUser'));

  // What the SDK cannot call and does not know still refuses.
  assert.throws(() => governedTools({ odd: { name: 'odd' } }, { agentId: 'bot', transport: stub }), /neither a function nor a tool/);
});

// LangChain.js / LangGraph.js: wrap the tool list; a ToolNode gets a ToolMessage carrying the denial.
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { governedTools } from '@faramesh/sdk';

const [searchDocs, payout] = governedTools(
  [
    tool(async ({ q }) => `3 results for ${q}`, {
      name: 'searchDocs',
      description: 'Search the docs',
      schema: z.object({ q: z.string() }),
    }),
    tool(async () => 'paid', { name: 'payout', description: 'Pay out', schema: z.object({ amount: z.number() }) }),
  ],
  { agentId: 'bot' },
);

// What a ToolNode does with the model's tool calls (the thread id becomes the daemon's session).
const config = { configurable: { thread_id: 'thread-1' } };
const found = await searchDocs.invoke({ type: 'tool_call', id: 'c1', name: 'searchDocs', args: { q: 'fees' } }, config);
const denied = await payout.invoke({ type: 'tool_call', id: 'c2', name: 'payout', args: { amount: 9 } }, config);
console.log(
  JSON.stringify([
    ['searchDocs', found.content],
    ['payout', JSON.parse(denied.content)],
  ]),
);

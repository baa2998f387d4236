// Mastra: wrap the Agent's tools registry (memory threads become the daemon's session).
import { Agent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import { governedTools } from '@faramesh/sdk';
import { scriptedModel } from './scripted-model.mjs';

const tools = governedTools(
  {
    searchDocs: createTool({
      id: 'searchDocs',
      description: 'Search the docs',
      inputSchema: z.object({ q: z.string() }),
      execute: async ({ q }) => `3 results for ${q}`,
    }),
    payout: createTool({
      id: 'payout',
      description: 'Pay out',
      inputSchema: z.object({ amount: z.number() }),
      execute: async () => 'paid',
    }),
  },
  { agentId: 'bot' },
);

const model = scriptedModel([
  ['searchDocs', { q: 'fees' }],
  ['payout', { amount: 9 }],
]);
const agent = new Agent({ id: 'ops', name: 'ops', instructions: 'Help with payouts.', model, tools });
const result = await agent.generate('Pay out 9', { maxSteps: 2 });
console.log(JSON.stringify(result.toolResults.map((r) => [r.payload.toolName, r.payload.result])));

// Vercel AI SDK: wrap the ToolSet; a denial comes back to the model as the tool's result.
import { generateText, isStepCount, tool } from 'ai';
import { z } from 'zod';
import { governedTools } from '@faramesh/sdk';
import { scriptedModel } from './scripted-model.mjs';

const tools = governedTools(
  {
    searchDocs: tool({
      description: 'Search the docs',
      inputSchema: z.object({ q: z.string() }),
      execute: async ({ q }) => `3 results for ${q}`,
    }),
    payout: tool({ description: 'Pay out', inputSchema: z.object({ amount: z.number() }), execute: async () => 'paid' }),
  },
  { agentId: 'bot' }, // the transport comes from FARAMESH_SOCKET (set by .faramesh/bin/agent)
);

const model = scriptedModel([
  ['searchDocs', { q: 'fees' }],
  ['payout', { amount: 9 }],
]);
const result = await generateText({ model, tools, prompt: 'Pay out 9', stopWhen: isStepCount(2) });
console.log(JSON.stringify(result.steps[0].toolResults.map((r) => [r.toolName, r.output])));

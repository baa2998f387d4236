// OpenAI Agents JS: wrap the tools array; the model reads the denial as the function call's output.
import { Agent, run, tool, Usage, setTracingDisabled } from '@openai/agents';
import { z } from 'zod';
import { governedTools } from '@faramesh/sdk';

setTracingDisabled(true);
const tools = governedTools(
  [
    tool({
      name: 'searchDocs',
      description: 'Search the docs',
      parameters: z.object({ q: z.string() }),
      execute: async ({ q }) => `3 results for ${q}`,
    }),
    tool({ name: 'payout', description: 'Pay out', parameters: z.object({ amount: z.number() }), execute: async () => 'paid' }),
  ],
  { agentId: 'bot' },
);

// A stand-in model (use a real one, e.g. the default OpenAI model, in your agent).
let turn = 0;
const model = {
  async getResponse() {
    if (turn++ > 0)
      return {
        usage: new Usage(),
        output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'done' }] }],
      };
    const call = (name, args, i) => ({
      type: 'function_call',
      callId: `c${i}`,
      name,
      arguments: JSON.stringify(args),
      status: 'completed',
    });
    return { usage: new Usage(), output: [call('searchDocs', { q: 'fees' }, 1), call('payout', { amount: 9 }, 2)] };
  },
  getStreamedResponse() {
    throw new Error('not scripted');
  },
};
const result = await run(new Agent({ name: 'ops', instructions: 'Help with payouts.', model, tools }), 'Pay out 9');
console.log(JSON.stringify(result.newItems.filter((i) => i.type === 'tool_call_output_item').map((i) => [i.rawItem.name, i.output])));

// A stand-in model for the examples, so they run offline: it asks for the given tool calls, then
// answers "done". In your agent, use a real one (e.g. openai('gpt-4o') from @ai-sdk/openai).
import { MockLanguageModelV4 } from 'ai/test';

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

export function scriptedModel(calls) {
  let step = 0;
  return new MockLanguageModelV4({
    doGenerate: async () =>
      step++ === 0
        ? {
            content: calls.map(([toolName, input], i) => ({
              type: 'tool-call',
              toolCallId: `c${i}`,
              toolName,
              input: JSON.stringify(input),
            })),
            finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
            usage,
            warnings: [],
          }
        : { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
  });
}

/** Scripted models for the frameworks' own loops: first these tool calls, then a closing text. */
import { MockLanguageModelV4, convertArrayToReadableStream } from 'ai/test';

export interface Call {
  name: string;
  input: Record<string, unknown>;
}

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 },
};

/** An AI SDK (v4 spec) model: generate and stream both answer with the calls, then `text`. */
export function scriptedModel(calls: Call[], text = 'done'): MockLanguageModelV4 {
  const toolCalls = calls.map((c, i) => ({
    type: 'tool-call' as const,
    toolCallId: `c${i + 1}`,
    toolName: c.name,
    input: JSON.stringify(c.input),
  }));
  let step = 0;
  let streamStep = 0;
  return new MockLanguageModelV4({
    doGenerate: async () =>
      step++ === 0
        ? { content: toolCalls, finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] }
        : { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
    doStream: async () => ({
      // The parts as the v4 stream spec has them (the union type is the provider package's, not imported here).
      stream: convertArrayToReadableStream<never>(
        (streamStep++ === 0
          ? [
              { type: 'stream-start' as const, warnings: [] },
              ...toolCalls,
              { type: 'finish' as const, finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' }, usage },
            ]
          : [
              { type: 'stream-start' as const, warnings: [] },
              { type: 'text-start' as const, id: 't1' },
              { type: 'text-delta' as const, id: 't1', delta: text },
              { type: 'text-end' as const, id: 't1' },
              { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: 'stop' }, usage },
            ]) as never[],
      ),
    }),
  });
}

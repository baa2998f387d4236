/** AI SDK tools that stream their results (`async *execute`) keep their output once governed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, isStepCount, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { governedTools, StubTransport } from '../src/index.js';

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

async function outputs(tools: Parameters<typeof generateText>[0]['tools']) {
  const model = new MockLanguageModelV4({
    doGenerate: [
      {
        content: [
          { type: 'tool-call', toolCallId: 'c1', toolName: 'search', input: JSON.stringify({ q: 'fees' }) },
          { type: 'tool-call', toolCallId: 'c2', toolName: 'payout', input: JSON.stringify({ q: 'x' }) },
        ],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      },
      { content: [{ type: 'text', text: 'ok' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
    ],
  });
  const r = await generateText({ model, tools, prompt: 'x', stopWhen: isStepCount(2) });
  return Object.fromEntries(r.steps[0]!.toolResults.map((t) => [t.toolName, t.output]));
}

test('AI SDK: an async-generator tool, governed, returns its last yielded output; a denied one yields the denial and never runs', async () => {
  const ran: string[] = [];
  const raw = {
    search: tool({
      inputSchema: z.object({ q: z.string() }),
      async *execute({ q }) {
        ran.push('search');
        yield { status: 'searching' };
        yield { status: 'done', hits: [`found ${q}`] };
      },
    }),
    payout: tool({
      inputSchema: z.object({ q: z.string() }),
      async *execute() {
        ran.push('payout');
        yield 'paid';
      },
    }),
  };
  const governed = governedTools(raw, { agentId: 'a', transport: new StubTransport({ search: 'permit', payout: 'deny' }) });
  const out = await outputs(governed);
  assert.deepEqual(out.search, { status: 'done', hits: ['found fees'] });
  assert.equal((out.payout as { code: string }).code, 'POLICY_DENY');
  assert.deepEqual(ran, ['search']);
});

/**
 * The AI SDK parses a tool's input with its schema before it calls `execute`: the wrapper must decide
 * on that value, not parse it a second time (a `transform` applied twice is a value the body never gets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateText, isStepCount, tool as aiTool } from 'ai';
import { z } from 'zod';
import { governedTools, StubTransport } from '../src/index.js';
import { scriptedModel } from './models.js';

test('AI SDK: the policy decides on the input execute gets, a schema transform applied once', async () => {
  const stub = new StubTransport({ refund: 'permit' });
  const got: unknown[] = [];
  const tools = governedTools(
    {
      refund: aiTool({
        // The model sends cents; the body works in dollars.
        inputSchema: z.object({ amount: z.number().transform((cents) => cents / 100) }),
        execute: async (input) => (got.push(input), 'refunded'),
      }),
    },
    { agentId: 'bot', transport: stub },
  );
  await generateText({
    model: scriptedModel([{ name: 'refund', input: { amount: 500000 } }]),
    tools,
    prompt: 'go',
    stopWhen: isStepCount(2),
  });
  assert.deepEqual(got, [{ amount: 5000 }]);
  assert.deepEqual(
    stub.calls.map((c) => c.args),
    [{ amount: 5000 }],
    'decided on the 5000 dollars the body refunds, not on 50',
  );
});

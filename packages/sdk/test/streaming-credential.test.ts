/** A streaming (async generator) AI SDK tool reads the call's brokered credential in every step of its body. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credential, governedTools, type Transport } from '../src/index.js';

test('credential() inside a streaming tool body is the call credential, before and after an await', async () => {
  const transport: Transport = {
    govern: () => Promise.resolve({ effect: 'PERMIT', credential: { value: 'sk-call', header: 'authorization', expires_at: 'soon' } }),
    poll: () => Promise.resolve('unknown'),
  };
  const tools = governedTools(
    {
      stream: {
        description: 'streams',
        execute: async function* (_input: unknown) {
          yield credential()?.value;
          await new Promise((r) => setTimeout(r, 5));
          yield credential()?.value;
        },
      },
    },
    { agentId: 'bot', transport },
  );
  const seen: unknown[] = [];
  for await (const chunk of tools.stream.execute({}) as AsyncIterable<unknown>) seen.push(chunk);
  assert.deepEqual(seen, ['sk-call', 'sk-call']);
  assert.equal(credential(), undefined);
});

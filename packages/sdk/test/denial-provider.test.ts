/** errors.md: CREDENTIAL_UNAVAILABLE names its `provider`; the SDK's ToolDeniedError keeps it, as it keeps `budget_id`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Governor, ToolDeniedError, type Transport } from '../src/index.js';

test('a CREDENTIAL_UNAVAILABLE denial keeps the provider that failed', async () => {
  const transport: Transport = {
    govern: () =>
      Promise.resolve({
        effect: 'DENY',
        action_id: 'action-1',
        reason_code: 'CREDENTIAL_UNAVAILABLE',
        structured_denial: {
          code: 'CREDENTIAL_UNAVAILABLE',
          provider: 'vault',
          human_message: 'vault provider: connection refused',
          resolution: { type: 'retry_after', retry_after_seconds: 30 },
        },
      }),
    poll: () => Promise.resolve('unknown'),
  };
  const gov = new Governor({ agentId: 'a', transport });
  const e = await gov.run('db/query', {}, () => 'ran').catch((x: unknown) => x);
  assert.ok(e instanceof ToolDeniedError);
  assert.equal(e.code, 'CREDENTIAL_UNAVAILABLE');
  assert.equal(e.provider, 'vault');
});

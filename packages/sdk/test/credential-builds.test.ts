/**
 * credential() and the ESM/CommonJS builds: an agent whose tools are governed by one build (as
 * FARAMESH_AUTOLOAD governs a require()d framework with the ESM build) reads the call's credential
 * with the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as esm from '../src/index.js';

const cjs = createRequire(import.meta.url)('../../cjs/index.js') as typeof esm;

const granting: esm.Transport = {
  govern: async () => ({
    effect: 'PERMIT',
    credential: { value: 'Bearer one-call', header: 'Authorization', expires_at: '2099-01-01T00:00:00Z' },
  }),
  poll: async () => 'unknown',
};

test('credential(): a call governed by the ESM build is seen by the CommonJS credential(), and the other way round', async () => {
  assert.notEqual(cjs.governedTools, esm.governedTools, 'two module instances');
  const viaEsm = esm.governedTools({ t: async () => cjs.credential()?.value }, { agentId: 'a', transport: granting });
  assert.equal(await viaEsm.t(), 'Bearer one-call');
  const viaCjs = cjs.governedTools({ t: async () => esm.credential()?.value }, { agentId: 'a', transport: granting });
  assert.equal(await viaCjs.t(), 'Bearer one-call');
  assert.equal(esm.credential(), undefined);
  assert.equal(cjs.credential(), undefined);
});

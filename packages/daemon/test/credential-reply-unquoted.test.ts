/**
 * A provider reply that is not JSON is named in the denial, never quoted: JSON.parse quotes the start
 * of what it read, and a Vault answered by something sending the bare secret would put it in the
 * agent's denial and in the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialBroker } from '../src/credentials/broker.js';
import { withVaultStub } from './vault-stub.js';

test('a Vault reply that is not JSON: CREDENTIAL_UNAVAILABLE names the fault and quotes none of it', () =>
  withVaultStub(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('sk_live_BARE_SECRET');
    },
    async (ir, binding) => {
      const got = await new CredentialBroker({}).issue(ir, binding, 'pay', 'pay/charge', Date.now());
      assert.equal(got.ok, false);
      assert.equal(!got.ok && got.message, 'vault provider: its reply is not valid JSON');
    },
  ));

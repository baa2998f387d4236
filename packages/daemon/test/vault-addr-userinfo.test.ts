/**
 * A Vault addr with a user name or password in it is refused without quoting it: fetch's own refusal
 * quotes the whole URL, and a provider's failure is the agent's denial and a record of the log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CredentialBroker } from '../src/credentials/broker.js';
import { withVaultStub } from './vault-stub.js';

test('an addr with user:password@ is CREDENTIAL_UNAVAILABLE, and the password is in neither the denial nor the status', () =>
  withVaultStub(
    (_req, res) => res.end('{}'),
    async (ir, binding) => {
      const vault = ir.providers[0]!;
      vault.fields.addr = String(vault.fields.addr).replace('http://', 'http://ops:Hunter2Pass@');
      const broker = new CredentialBroker({});
      const got = await broker.issue(ir, binding, 'pay', 'pay/charge', Date.now());
      assert.equal(got.ok, false);
      assert.match(!got.ok ? got.message : '', /carries a user name or password/);
      assert.doesNotMatch(JSON.stringify(got), /Hunter2Pass/);
      assert.doesNotMatch(JSON.stringify(broker.statuses()), /Hunter2Pass/);
    },
  ));
